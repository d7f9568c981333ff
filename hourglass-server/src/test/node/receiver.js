// A webhook receiver as a Hourglass user would write one in Node.js: every request is verified with the official
// Standard Webhooks library (npm "standardwebhooks"), then answered 204, or 401 with the library's reason.
// Driven by StandardWebhooksReceiverTest (hourglass-server/src/test/java/dev/hourglass/server/), which installs the
// library with `npm ci` from package-lock.json, starts this script, and reads what it saw from GET /seen.
//
// RECEIVER_SECRETS: a JSON object of path -> secret ("whsec_..."), the one secret each path verifies with.
// Prints "LISTENING <port>" once it listens on 127.0.0.1.
'use strict';
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const secrets = JSON.parse(process.env.RECEIVER_SECRETS || '{}');
const seen = []; // every webhook request, in arrival order

function answer(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && path === '/seen') {
      answer(res, 200, seen);
      return;
    }
    const secret = secrets[path];
    if (!secret) {
      answer(res, 404, { error: 'no secret for ' + path });
      return;
    }
    // The raw body, exactly as received: re-serialized JSON would not match the signature.
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': req.headers['webhook-id'],
      'webhook-timestamp': req.headers['webhook-timestamp'],
      'webhook-signature': req.headers['webhook-signature'],
    };
    try {
      new Webhook(secret).verify(body, req.headers);
      seen.push({ path, verified: true, headers, body });
      res.writeHead(204);
      res.end();
    } catch (e) {
      seen.push({ path, verified: false, error: String(e.message), headers, body });
      answer(res, 401, { error: String(e.message) });
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
