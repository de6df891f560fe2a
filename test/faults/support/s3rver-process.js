// An s3rver in a process of its own for the fault tests: `node s3rver-process.js DIR PORT`.
// SIGTERM stops it as a real store stops (MinIO drains its requests): no new connection is taken
// and the requests in flight finish, so no object is left half written (s3rver writes an object's
// data and its metadata as two files; killed between them, the object answers 500 for ever, which
// no real S3 does). SIGKILL remains the abrupt stop.
import { setTimeout } from 'node:timers';
import S3rver from 's3rver';

const [directory, port] = process.argv.slice(2);
if (!directory || !port) {
  console.error('usage: s3rver-process.js DIRECTORY PORT');
  process.exit(2);
}
const server = new S3rver({ directory, address: '127.0.0.1', port: Number(port), silent: true });
await server.run();
process.once('SIGTERM', () => {
  // No new connection from now on; a request in flight takes milliseconds. Idle keep-alive connections
  // could hold close() open for long, so the process ends after a short drain whatever they do.
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
