"""The MSSanté sandbox: a real Dovecot 2.3 (IMAP, submission, LMTP) run as an
unprivileged process on loopback ports, with the test PKI.

- TLS ≥ 1.2 with STARTTLS on IMAP and submission; a client certificate from the test CA
  is required on every connection (``ssl_verify_client_cert``);
- personal and organisational mailboxes authenticate by SASL XOAUTH2 (or OAUTHBEARER)
  with a JWT checked locally against the key of a :class:`TokenIssuer` standing in for
  Pro Santé Connect (oauth2 passdb, ``introspection_mode = local``);
- application mailboxes by SASL EXTERNAL: the user is the certificate's CN;
- every address exists (static userdb, ``allow_all_users``); mail is delivered by LMTP
  into maildirs; submission relays to a :class:`DSNRelay` that keeps DSN parameters.

The configuration is written for Dovecot 2.3 (2.4 changed its syntax): starting refuses
another major version with a clear error.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from segur_core.errors import SegurError
from segur_mssante.sandbox.relay import DSNRelay
from segur_mssante.sandbox.tokens import TokenIssuer

__all__ = ["DOVECOT", "MailSandbox", "app_credential", "dovecot_missing"]

DOVECOT = "dovecot"
HOSTNAME = "mail.mssante.test"
#: The account Dovecot runs as when the tests run as root (it never runs as root itself).
UNPRIVILEGED = "nobody"


def dovecot_missing() -> str | None:
    """Why the sandbox cannot run here (``None`` when Dovecot 2.3 is installed)."""
    binary = shutil.which(DOVECOT) or next(
        (p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None
    )
    if binary is None:
        return "Dovecot is not installed (Debian: dovecot-core dovecot-imapd "
        "dovecot-submissiond dovecot-lmtpd)"
    version = _version(binary)
    if not version.startswith("2.3."):
        return f"the sandbox configuration is written for Dovecot 2.3, found {version}"
    for module in ("imap", "submission", "lmtp"):
        if not Path(f"/usr/lib/dovecot/{module}").exists():
            return f"the Dovecot {module} service is not installed (dovecot-{module}d)"
    return None


def _version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    return done.stdout.split()[0] if done.stdout.split() else "unknown"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SegurError(f"the sandbox Dovecot did not listen on port {port} in {timeout} s")


_CONFIG = """\
# segur MSSanté sandbox — Dovecot 2.3, unprivileged, loopback only
base_dir = {run}
state_dir = {state}
instance_name = segur-mss-{instance}
log_path = {log}
info_log_path = {log}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
hostname = {hostname}
protocols = imap submission lmtp
listen = 127.0.0.1
shutdown_clients = yes

ssl = required
ssl_cert = <{server_cert}
ssl_key = <{server_key}
ssl_ca = <{ca}
ssl_min_protocol = TLSv1.2
ssl_verify_client_cert = yes
ssl_require_crl = no
ssl_cert_username_field = commonName
auth_ssl_require_client_cert = no
auth_ssl_username_from_cert = yes
auth_failure_delay = 0
disable_plaintext_auth = yes
auth_mechanisms = xoauth2 oauthbearer external
auth_verbose = yes

passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2}
}}
passdb {{
  driver = static
  mechanisms = external
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%Lu allow_all_users=yes
}}
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
first_valid_gid = 0

submission_relay_host = 127.0.0.1
submission_relay_port = {relay_port}
submission_relay_ssl = no
submission_relay_trusted = no
lmtp_save_to_detail_mailbox = no
recipient_delimiter =

service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service submission-login {{
  chroot =
  inet_listener submission {{
    address = 127.0.0.1
    port = {submission_port}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
  unix_listener lmtp {{
    mode = 0600
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0600
  }}
}}
service anvil {{
  chroot =
  # no growing delay after failed logins: the tests fail logins on purpose
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-urlauth-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
service managesieve-login {{
  chroot =
}}
"""

_OAUTH2 = """\
introspection_mode = local
local_validation_key_dict = fs:posix:prefix={keys}/
username_attribute = email
issuers = {issuer}
"""


class MailSandbox:
    """Dovecot + the DSN relay, started and stopped together (one per test session).

    ``tokens`` signs the stand-in Pro Santé Connect tokens the server accepts;
    ``pki`` is the :class:`~segur_core.sandbox.pki.TestPKI` whose CA the server trusts
    and whose server certificate it presents.
    """

    name = "mss"

    def __init__(self, *, pki: Any, directory: Path | str | None = None) -> None:
        self.pki = pki
        self.tokens = TokenIssuer()
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="segur-mss-"))
        self.imap_port = 0
        self.submission_port = 0
        self.lmtp_port = 0
        self.relay: DSNRelay | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.submission_port}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> Path:
        return self.directory / "dovecot.log"

    def start(self) -> None:
        if self.running:
            return
        missing = dovecot_missing()
        if missing:
            raise SegurError(f"the MSSanté sandbox cannot start: {missing}")
        self.lmtp_port, self.imap_port, self.submission_port = (_free_port() for _ in range(3))
        self.relay = DSNRelay(self.lmtp_port)
        self.relay.start()
        config = self._write_config()
        demote = _unprivileged() if os.geteuid() == 0 else {}
        self._process = subprocess.Popen(
            [shutil.which(DOVECOT) or "/usr/sbin/dovecot", "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            **demote,
        )
        try:
            for port in (self.imap_port, self.submission_port, self.lmtp_port):
                _wait_port(port, 15.0, self._process)
            if self._process.poll() is not None:
                raise SegurError(f"the sandbox Dovecot stopped at once: {self._errors()}")
        except BaseException:
            self.stop()
            raise

    def _errors(self) -> str:
        """The end of the log (and of stderr once the process has exited)."""
        process = self._process
        err = ""
        if process is not None and process.poll() is not None and process.stderr is not None:
            err = process.stderr.read().decode(errors="replace")
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        return (err + log)[-2000:]

    def _write_config(self) -> Path:
        d = self.directory
        for sub in ("run", "state", "mail", "keys/default/RS256", "tls"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        # the server's own copies: the unprivileged server need not reach into the PKI
        tls = {}
        for name, source in (
            ("server.crt", self.pki.server_cert),
            ("server.key", self.pki.server_key),
            ("ca.pem", self.pki.ca_bundle),
        ):
            tls[name] = d / "tls" / name
            shutil.copyfile(source, tls[name])
            tls[name].chmod(0o600)
        # the key the oauth2 passdb checks tokens with (dict key shared/<azp>/<alg>/<kid>)
        (d / "keys/default/RS256/default").write_bytes(self.tokens.public_pem)
        from segur_mssante.sandbox.tokens import ISSUER

        (d / "oauth2.conf").write_text(_OAUTH2.format(keys=d / "keys", issuer=ISSUER))
        user, group, uid, gid = _identity()
        config = d / "dovecot.conf"
        config.write_text(
            _CONFIG.format(
                run=d / "run",
                state=d / "state",
                instance=os.getpid(),
                log=self.log,
                user=user,
                group=group,
                uid=uid,
                gid=gid,
                hostname=HOSTNAME,
                server_cert=tls["server.crt"],
                server_key=tls["server.key"],
                ca=tls["ca.pem"],
                oauth2=d / "oauth2.conf",
                mail=d / "mail",
                relay_port=self.relay.port if self.relay else 0,
                imap_port=self.imap_port,
                submission_port=self.submission_port,
                lmtp_port=self.lmtp_port,
            )
        )
        if os.geteuid() == 0:
            _give(d, uid, gid)
        return config

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> MailSandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _identity() -> tuple[str, str, int, int]:
    account = pwd.getpwnam(UNPRIVILEGED) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return account.pw_name, grp.getgrgid(account.pw_gid).gr_name, account.pw_uid, account.pw_gid


def _unprivileged() -> dict[str, Any]:
    _, _, uid, gid = _identity()
    return {"user": uid, "group": gid, "extra_groups": []}


def _give(directory: Path, uid: int, gid: int) -> None:
    os.chown(directory, uid, gid)
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid)


def app_credential(pki: Any, address: str) -> Any:
    """The test PKI's certificate of the application mailbox ``address`` (CN = address),
    issued on first use."""
    name = f"mss-{address}"
    try:
        return pki.client(name)
    except SegurError:
        return pki.issue_client(address, name=name)
