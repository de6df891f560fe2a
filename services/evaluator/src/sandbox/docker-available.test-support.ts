import Docker from 'dockerode';

/**
 * Whether the Docker tests can run. Without an engine they fail loudly in CI and are
 * skipped, with the reason printed, on a developer machine.
 */
export async function dockerForTests(suite: string): Promise<{ docker: Docker; dockerUp: boolean }> {
  const docker = new Docker();
  const dockerUp = await docker.ping().then(
    () => true,
    () => false,
  );
  if (!dockerUp) {
    const why = 'no Docker engine answers (start one with scripts/docker-engine --install)';
    if (process.env.CI && process.env.CI !== 'false') throw new Error(`${suite} need Docker in CI: ${why}`);
    console.warn(`SKIPPING ${suite}: ${why}`);
  }
  return { docker, dockerUp };
}
