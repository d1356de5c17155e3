"""The pharmacist's decisions on each line, and the dispensation report made of them.

Per line (public, trade press, §5.1 of the reference): delivered as prescribed, generic
substitution, adaptation (dosage, quantity or presentation changed by the pharmacist),
partial or sequenced dispensation, not delivered with a reason. :func:`decide` checks
the decisions against the prescription (an unknown line, a substitution of a
non-substitutable line, a partial quantity that is not partial...) and gives the frozen
:class:`DispensationReport` the outbox sends and the eDISP-MED document is built from.
Its JSON form (:func:`report_to_json`, :func:`report_from_json`) is segur's own: the
service's payload is not public (§5.2, intervention codes stay adapter-internal).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from segur_eprescription.errors import DispensationError
from segur_eprescription.ids import check_prescription_id
from segur_eprescription.models import EPrescription, Product, ProductKind, Quantity

__all__ = [
    "Decision",
    "DispensationReport",
    "LineDecision",
    "LineDispensation",
    "decide",
    "report_from_json",
    "report_to_json",
]


class Decision(enum.StrEnum):
    DELIVERED = "delivered"
    SUBSTITUTED = "substituted"  # generic substitution
    ADAPTED = "adapted"
    PARTIAL = "partial"  # partial or sequenced: the rest comes later
    NOT_DELIVERED = "not-delivered"


@attrs.frozen
class LineDecision:
    """What the pharmacist decided for line ``line``. ``product`` is the product
    dispensed instead (substitution, adaptation), ``quantity`` the quantity dispensed when
    it differs, ``reason`` why (required for an adaptation and a non-delivery)."""

    line: int
    decision: Decision = attrs.field(converter=Decision)
    product: Product | None = None
    quantity: Quantity | None = None
    reason: str | None = None


@attrs.frozen
class LineDispensation:
    """One line of the report: what was dispensed for prescription line ``line``."""

    line: int
    decision: Decision = attrs.field(converter=Decision)
    prescribed: Product
    dispensed: Product | None  # None when nothing was delivered
    quantity: Quantity | None
    reason: str | None = None


@attrs.frozen
class DispensationReport:
    """A dispensation of prescription ``prescription_id``: one entry per prescription
    line. ``report_id`` (a UUID) makes sending it idempotent."""

    report_id: str
    prescription_id: str
    dispensed_at: dt.datetime
    lines: tuple[LineDispensation, ...] = attrs.field(converter=tuple)
    pharmacist_rpps: str | None = None
    pharmacy_finess: str | None = None

    @property
    def partial(self) -> bool:
        """Whether the rest of some line is still to be dispensed (sequenced)."""
        return any(line.decision is Decision.PARTIAL for line in self.lines)


def decide(
    prescription: EPrescription,
    decisions: Iterable[LineDecision] = (),
    *,
    pharmacist_rpps: str | None = None,
    pharmacy_finess: str | None = None,
    now: dt.datetime | None = None,
) -> DispensationReport:
    """The report of dispensing ``prescription`` with ``decisions``; a line without a
    decision is delivered as prescribed."""
    by_line: dict[int, LineDecision] = {}
    known = {line.number for line in prescription.lines}
    for d in decisions:
        if d.line not in known:
            raise DispensationError(
                f"the prescription has no line {d.line}", hint=f"lines: {sorted(known)}"
            )
        if d.line in by_line:
            raise DispensationError(f"two decisions for line {d.line}")
        by_line[d.line] = d
    out = []
    for line in prescription.lines:
        d = by_line.get(line.number, LineDecision(line.number, Decision.DELIVERED))
        out.append(_line(line, d))
    return DispensationReport(
        report_id=str(uuid.uuid4()),
        prescription_id=prescription.id,
        dispensed_at=now or dt.datetime.now(dt.UTC),
        lines=out,
        pharmacist_rpps=pharmacist_rpps,
        pharmacy_finess=pharmacy_finess,
    )


def _line(line: Any, d: LineDecision) -> LineDispensation:
    n = line.number
    prescribed_qty = line.quantity
    if d.quantity is not None and (not math.isfinite(d.quantity.value) or d.quantity.value < 0):
        raise DispensationError(f"line {n}: the quantity must be a positive number")
    if d.decision is Decision.NOT_DELIVERED:
        if not d.reason:
            raise DispensationError(f"line {n}: say why it is not delivered", hint="give a reason")
        return LineDispensation(n, d.decision, line.product, None, None, d.reason)
    if d.decision is Decision.SUBSTITUTED:
        if not line.substitutable:
            raise DispensationError(
                f"line {n} is marked non-substitutable by the prescriber",
                hint="deliver the prescribed product, or record an adaptation with a reason",
            )
        if d.product is None or not d.product.code:
            raise DispensationError(f"line {n}: a substitution names the product delivered")
    if d.decision is Decision.ADAPTED and not d.reason:
        raise DispensationError(f"line {n}: say why the line is adapted", hint="give a reason")
    quantity = d.quantity or prescribed_qty
    if d.decision is Decision.PARTIAL:
        if d.quantity is None:
            raise DispensationError(f"line {n}: a partial dispensation gives its quantity")
        if prescribed_qty is not None and d.quantity.value >= prescribed_qty.value:
            raise DispensationError(
                f"line {n}: a partial quantity is less than the {prescribed_qty.value:g} prescribed"
            )
    if (
        d.decision in (Decision.DELIVERED, Decision.SUBSTITUTED)
        and d.quantity is not None
        and prescribed_qty is not None
        and d.quantity.value > prescribed_qty.value
    ):
        raise DispensationError(
            f"line {n}: {d.quantity.value:g} is more than the {prescribed_qty.value:g} prescribed",
            hint="record an adaptation with a reason",
        )
    dispensed = d.product or line.product
    return LineDispensation(n, d.decision, line.product, dispensed, quantity, d.reason)


# -- JSON ------------------------------------------------------------------------------------


def _product(p: Product | None) -> dict[str, Any] | None:
    return None if p is None else {k: v for k, v in attrs.asdict(p).items() if v is not None}


def _quantity(q: Quantity | None) -> dict[str, Any] | None:
    return None if q is None else {"value": q.value, "unit": q.unit}


def report_to_json(report: DispensationReport) -> bytes:
    return json.dumps(
        {
            "report_id": report.report_id,
            "prescription_id": report.prescription_id,
            "dispensed_at": report.dispensed_at.isoformat(),
            "pharmacist_rpps": report.pharmacist_rpps,
            "pharmacy_finess": report.pharmacy_finess,
            "partial": report.partial,
            "lines": [
                {
                    "line": line.line,
                    "decision": str(line.decision),
                    "prescribed": _product(line.prescribed),
                    "dispensed": _product(line.dispensed),
                    "quantity": _quantity(line.quantity),
                    "reason": line.reason,
                }
                for line in report.lines
            ],
        },
        ensure_ascii=False,
    ).encode()


def _product_from(value: Any) -> Product | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("label"), str):
        raise ValueError("a product is an object with a label")
    fields = {f.name for f in attrs.fields(Product)}
    extra = set(value) - fields
    if extra:
        raise ValueError(f"unknown product fields {sorted(extra)}")
    for key, item in value.items():
        if item is not None and not isinstance(item, str):
            raise ValueError(f"product {key} is not text")
    return Product(**{**value, "kind": ProductKind(value.get("kind", "other"))})


def _quantity_from(value: Any) -> Quantity | None:
    if value is None:
        return None
    number = value.get("value") if isinstance(value, Mapping) else None
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError("a quantity has a numeric value")
    if not math.isfinite(number) or number < 0:
        raise ValueError("a quantity is a positive number")
    unit = value.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise ValueError("a quantity unit is text")
    return Quantity(float(number), unit)


def report_from_json(data: bytes) -> DispensationReport:
    """The report in ``data`` (:func:`report_to_json`'s form), or :class:`DispensationError`."""
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or not isinstance(raw.get("lines"), list):
            raise ValueError("not a report object")
        uuid.UUID(str(raw["report_id"]))
        lines = []
        for item in raw["lines"]:
            if not isinstance(item, dict) or isinstance(item.get("line"), bool):
                raise ValueError("a line is an object")
            reason = item.get("reason")
            if reason is not None and not isinstance(reason, str):
                raise ValueError("a reason is text")
            prescribed = _product_from(item.get("prescribed"))
            if prescribed is None:
                raise ValueError("a line names the prescribed product")
            lines.append(
                LineDispensation(
                    line=int(item["line"]),
                    decision=Decision(item["decision"]),
                    prescribed=prescribed,
                    dispensed=_product_from(item.get("dispensed")),
                    quantity=_quantity_from(item.get("quantity")),
                    reason=reason,
                )
            )
        at = dt.datetime.fromisoformat(str(raw["dispensed_at"]))
        if at.tzinfo is None:
            raise ValueError("dispensed_at has no time zone")
        for key in ("pharmacist_rpps", "pharmacy_finess"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise ValueError(f"{key} is text")
        return DispensationReport(
            report_id=str(raw["report_id"]),
            prescription_id=check_prescription_id(raw["prescription_id"]),
            dispensed_at=at,
            lines=lines,
            pharmacist_rpps=raw.get("pharmacist_rpps"),
            pharmacy_finess=raw.get("pharmacy_finess"),
        )
    except DispensationError:
        raise
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise DispensationError(f"malformed dispensation report ({exc})") from None
