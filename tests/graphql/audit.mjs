// The graphql-http audit (GraphQL over HTTP) against a running /graphql, authenticated with an API key.
// Usage: HUBBLE_URL=http://127.0.0.1:8080/graphql HUBBLE_KEY=hw_... node audit.mjs
// Prints one line per audit; exits 1 when a MUST or SHOULD audit fails (MAY audits are reported only).
import { auditServer } from 'graphql-http';

const url = process.env.HUBBLE_URL;
const key = process.env.HUBBLE_KEY;
if (!url || !key) {
  console.error('set HUBBLE_URL and HUBBLE_KEY');
  process.exit(2);
}
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
let failed = 0;
for (const r of results) {
  const binding = r.name.split(' ')[0];
  const line = `${r.status.padEnd(4)} ${r.id} ${r.name}`;
  if (r.status !== 'ok') {
    const body = r.response ? await r.response.text().catch(() => '') : '';
    console.log(`${line}\n     ${r.reason} ${body.slice(0, 300)}`);
    if (binding === 'MUST' || binding === 'SHOULD') failed += 1;
  } else {
    console.log(line);
  }
}
console.log(`${results.length} audits, ${failed} MUST/SHOULD failures`);
process.exit(failed ? 1 : 0);
