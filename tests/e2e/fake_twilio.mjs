// A stand-in for Twilio's REST API on loopback for the browser tests: it records message
// creations and answers them with the JSON body Twilio documents. Also signs webhooks the
// way Twilio does (HMAC-SHA1 of the URL and the sorted parameters, base64). failNext() makes
// the next message creation fail with Twilio's error body instead (the request is still
// recorded, with `refused` set to the error's code).
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';

// The account, token and number of the browser tests' SMS connector.
export const twilioAccount = 'AC0123456789abcdef0123456789abcdef';
export const twilioToken = 'twilio-auth-token-for-e2e';
export const libraryNumber = '+15550100199';

// The config block of an SMS connector (id "sms") on `twilio`.
export function smsConnector(twilio) {
  return { id: 'sms', type: 'twilio', account_sid: twilioAccount, auth_token: twilioToken, number: libraryNumber, api_base: twilio.base };
}

// Posts a text to askdesk at `stackUrl` as Twilio does, signed; the fetch Response.
export function postText(stackUrl, params) {
  const url = `${stackUrl}/webhooks/twilio/sms`;
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilioSignature(twilioToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
}

export async function startFakeTwilio() {
  const received = [];
  const failures = [];  // [{status, code, message}], answered in turn before any success
  let next = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const match = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(req.url);
      if (req.method !== 'POST' || !match) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: 20404, message: 'The requested resource was not found', status: 404 }));
        return;
      }
      const form = Object.fromEntries(new URLSearchParams(body));
      const failure = failures.shift();
      if (failure) {
        received.push({ form, authorization: req.headers.authorization || '', refused: failure.code });
        res.writeHead(failure.status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({
          code: failure.code, message: failure.message,
          more_info: `https://www.twilio.com/docs/errors/${failure.code}`, status: failure.status,
        }));
        return;
      }
      received.push({ form, authorization: req.headers.authorization || '' });
      const sid = `SM${String(next++).padStart(32, '0')}`;
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({
        account_sid: match[1], api_version: '2010-04-01', body: form.Body, date_created: new Date().toUTCString(),
        date_sent: null, date_updated: new Date().toUTCString(), direction: 'outbound-api', error_code: null,
        error_message: null, from: form.From, messaging_service_sid: null, num_media: '0', num_segments: '1',
        price: null, price_unit: 'USD', sid, status: 'queued', to: form.To,
        uri: `/2010-04-01/Accounts/${match[1]}/Messages/${sid}.json`,
      }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    received,
    // The next message creation is answered `status` with Twilio's error body (e.g. 400,
    // 21211, "The 'To' number … is not a valid phone number.").
    failNext(status, code, message) { failures.push({ status, code, message }); },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

export function twilioSignature(authToken, url, params) {
  const data = Object.keys(params).sort().reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data).digest('base64');
}
