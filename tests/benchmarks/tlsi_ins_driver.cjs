// Drives padoa/tlsi-ins (the open-source TypeScript INSi client, node-soap) against the
// INSi sandbox for bench_insi.py --part peer: `inflight` clients, each looking up its
// share of the persons one after the other (a client's SOAP headers are per client),
// every request over one shared https.Agent (keep-alive, the INSI-AUTO PKCS#12) unless
// `fresh` asks for the library's own agent per request (a TLS connection per request).
// Prints one JSON line: lookups, requests, found, client CPU (ms) and wall seconds of
// the measured part (after a warm-up of `warm` lookups).
//
// node tlsi_ins_driver.cjs URL P12 PASSWORD IDAM PERSONS_JSON INFLIGHT WARM keepalive|fresh
// with TLSI_INS_DIR the built tree of tlsi-ins (its dist/ and node_modules/) and
// NODE_EXTRA_CA_CERTS the test PKI's CA bundle.
'use strict';

const fs = require('fs');
const https = require('https');
const path = require('path');

const tree = process.env.TLSI_INS_DIR;
const peer = require(path.join(tree, 'dist'));
const soap = require(require.resolve('soap', { paths: [tree] }));

const [url, p12, password, idam, personsFile, inflightText, warmText, mode] = process.argv.slice(2);
const inflight = Number(inflightText);
const warm = Number(warmText);
const pfx = fs.readFileSync(p12);
const persons = JSON.parse(fs.readFileSync(personsFile, 'utf8'));

// The WSDL imports WS-Addressing's schema from www.w3.org, out of reach here: a schema of
// the elements it names, served in its place.
const WSA_SCHEMA_URL = 'http://www.w3.org/2006/03/addressing/ws-addr.xsd';
const WSA_SCHEMA = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  targetNamespace="http://www.w3.org/2005/08/addressing" elementFormDefault="qualified">
  ${['MessageID', 'RelatesTo', 'To', 'Action'].map((n) => `<xs:element name="${n}" type="xs:string"/>`).join('')}
</xs:schema>`;
const fetchSchema = soap.HttpClient.prototype.request;
soap.HttpClient.prototype.request = function request(rurl, data, callback, ...rest) {
  if (rurl === WSA_SCHEMA_URL) {
    setImmediate(() => callback(null, { status: 200, data: WSA_SCHEMA }, WSA_SCHEMA));
    return undefined;
  }
  return fetchSchema.call(this, rurl, data, callback, ...rest);
};

// The library pins the IGC-Santé CAs of its own tree; the sandbox's certificate chains to
// the test PKI (its bundle in NODE_EXTRA_CA_CERTS). One agent for all (keep-alive), or
// one per request as the library makes them (a TLS connection per request).
const tls = { pfx, passphrase: password, ca: fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS) };
const shared = new https.Agent({ keepAlive: true, maxSockets: inflight, ...tls });
soap.ClientSSLSecurityPFX.prototype.addOptions = function addOptions(options) {
  options.httpsAgent = mode === 'keepalive' ? shared : new https.Agent(tls);
};

async function client() {
  const lps = new peer.LPS({ idam, version: '1', name: 'bench', id: require('crypto').randomUUID() });
  const made = new peer.INSiClient({
    lpsContext: new peer.LpsContext({ emitter: 'bench', lps }),
    bamContext: new peer.BamContext({ emitter: 'bench' }),
  });
  await made.initClientPfx(pfx, password, url);
  return made;
}

async function lookUp(clients, list) {
  let requests = 0;
  let found = 0;
  const shares = clients.map((c, i) => list.filter((_, j) => j % clients.length === i));
  await Promise.all(clients.map(async (c, i) => {
    for (const person of shares[i]) {
      const result = await c.fetchIns(new peer.INSiPerson(person));
      requests += result.failedRequests.length + (result.successRequest ? 1 : 0);
      if (result.successRequest) found += 1;
    }
  }));
  return { requests, found };
}

(async () => {
  const clients = await Promise.all(Array.from({ length: inflight }, client));
  await lookUp(clients, persons.slice(0, warm));
  const measured = persons.slice(warm);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const { requests, found } = await lookUp(clients, measured);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({
    lookups: measured.length, requests, found, cpu_ms: (used.user + used.system) / 1000, wall_s: wall,
  }));
})().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
