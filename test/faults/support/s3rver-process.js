// An s3rver in a process of its own for the fault tests: `node s3rver-process.js DIR PORT`.
//
// s3rver keeps an object as files it writes in place, so two writes of one key at once, or a read during
// a write, can see a torn object, and a kill between its data and metadata files leaves a key that
// answers 500 for ever. S3 and MinIO replace an object atomically. So requests reach s3rver through a
// front here that runs the requests on one path (one object, or one bucket's listing) one at a time, as
// an atomic store would look from outside; and SIGTERM stops it as a real store stops (MinIO drains its
// requests): no new connection, the requests in flight finish, then it exits. SIGKILL stays abrupt.
// s3rver also ignores a conditional write (`If-None-Match: *`, which S3 honours since 2024): the front
// answers it, 412 when the object exists, which the one-at-a-time order makes atomic.
import { createServer, request } from 'node:http';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';
import S3rver from 's3rver';

const [directory, port] = process.argv.slice(2);
if (!directory || !port) {
  console.error('usage: s3rver-process.js DIRECTORY PORT');
  process.exit(2);
}
const inner = new S3rver({ directory, address: '127.0.0.1', port: 0, silent: true });
const { port: innerPort } = await inner.run();

/** The last request queued on each path: the next one on that path waits for it. */
const tails = new Map();

const front = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://s3').pathname;
  const previous = tails.get(path) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise((resolve) => (release = resolve));
  tails.set(path, mine);
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    if (tails.get(path) === mine) tails.delete(path);
    release();
  };
  res.on('close', done);
  void previous.then(async () => {
    if (res.destroyed) return done();
    if (req.method === 'PUT' && req.headers['if-none-match'] === '*' && (await exists(req.url ?? '/'))) {
      req.resume();
      res.writeHead(412, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message></Error>',
      );
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
});
/** Whether s3rver holds the object at `url` (a HEAD through to it). */
function exists(url) {
  return new Promise((resolve) => {
    const head = request({ host: '127.0.0.1', port: innerPort, method: 'HEAD', path: url }, (answer) => {
      answer.resume();
      resolve(answer.statusCode === 200);
    });
    head.on('error', () => resolve(false));
    head.end();
  });
}

front.listen(Number(port), '127.0.0.1');

process.once('SIGTERM', () => {
  // No new connection from now on; a request in flight takes milliseconds. Idle keep-alive connections
  // could hold close() open for long, so the process ends after a short drain whatever they do.
  front.close(() => process.exit(0));
  front.closeIdleConnections();
  setTimeout(() => process.exit(0), 1000).unref();
});
