// docker-compose.yml, the whole stack: what `docker compose up --scale evaluator=4` needs, checked on the
// file itself (the registry images of RabbitMQ, MinIO, Grafana and DinD cannot be pulled here), plus
// `docker compose config` (the v2 plugin) or Debian's `docker-compose` (1.29), which CI installs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string; args: { SERVICE: string } };
  ports?: string[];
  container_name?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  privileged?: boolean;
  command?: string[];
  profiles?: string[];
  healthcheck?: unknown;
  stop_grace_period?: string;
  group_add?: string[];
};
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };

const load = (file: string) => parse(readFileSync(file, 'utf8'), { merge: true }) as Compose;
const compose = load('docker-compose.yml');
const hostDocker = load('docker-compose.host-docker.yml');
const workers = ['producer', 'generator', 'evaluator', 'aggregator'];

function answers(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Which Compose validates here: the v2 plugin, else Debian's docker-compose 1.29, else none (not in CI). */
const composeTool: 'v2' | 'v1' | undefined = answers('docker', ['compose', 'version'])
  ? 'v2'
  : answers('docker-compose', ['version'])
    ? 'v1'
    : undefined;

/** `config -q` over the files; 1.29 predates the top-level `name`, so it reads copies without that line. */
function composeConfig(files: string[]): void {
  if (composeTool === 'v2') {
    execFileSync('docker', ['compose', ...files.flatMap((f) => ['-f', f]), 'config', '-q'], { timeout: 60_000 });
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'evalfleet-compose-'));
  try {
    const copies = files.map((f) => {
      const copy = path.join(dir, path.basename(f));
      writeFileSync(copy, readFileSync(f, 'utf8').replace(/^name: .*$/m, ''));
      return copy;
    });
    execFileSync(
      'docker-compose',
      ['--project-directory', process.cwd(), ...copies.flatMap((f) => ['-f', f]), 'config', '-q'],
      { timeout: 60_000 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'rabbitmq',
        'redis',
        'minio',
        'minio-bucket',
        'dind',
        'sandbox-image',
        'prometheus',
        'grafana',
        'fake-provider',
        'cli',
        ...workers,
      ].sort(),
    );
    expect(readFileSync('deploy/rabbitmq/enabled_plugins', 'utf8')).toMatch(
      /\[rabbitmq_management,rabbitmq_prometheus\]\./,
    );
  });

  it('every service is built from the one service image recipe with its SERVICE argument', () => {
    for (const name of [...workers, 'fake-provider', 'cli']) {
      const s = compose.services[name]!;
      expect(s.build).toEqual({ context: '.', dockerfile: 'deploy/service/Dockerfile', args: { SERVICE: name } });
    }
  });

  it('workers scale (--scale): no container name, no host port, a readiness health check, a drain period', () => {
    for (const name of workers) {
      const s = compose.services[name]!;
      expect(s.container_name).toBeUndefined();
      expect(s.ports).toBeUndefined();
      expect(JSON.stringify(s.healthcheck)).toContain('/readyz');
      expect(s.stop_grace_period).toBe('90s');
      expect(s.depends_on?.['rabbitmq']?.condition).toBe('service_healthy');
    }
  });

  it('the evaluator reaches Docker through DinD by default; the host socket only in the opt-in override', () => {
    const ev = compose.services['evaluator']!;
    expect(ev.environment?.['DOCKER_SOCKET']).toBe('/run/dind/docker.sock');
    expect(ev.volumes).toEqual(['dind-socket:/run/dind']);
    expect(ev.depends_on?.['sandbox-image']?.condition).toBe('service_completed_successfully');
    expect(readFileSync('docker-compose.yml', 'utf8')).not.toMatch(/^\s*-\s*\/var\/run\/docker\.sock/m);
    const dind = compose.services['dind']!;
    expect(dind.privileged).toBe(true);
    expect(dind.command?.[0]).toBe('dockerd');
    expect(dind.command).not.toContain('--host=tcp://0.0.0.0:2375');
    const override = hostDocker.services['evaluator']!;
    expect(override.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock']);
    expect(readFileSync('docker-compose.host-docker.yml', 'utf8')).toMatch(/WARNING/);
  });

  it('Prometheus scrapes every worker and RabbitMQ and loads the rules; Grafana is provisioned', () => {
    const prom = compose.services['prometheus']!;
    expect(prom.volumes).toContain('./deploy/prometheus/rules.yml:/etc/prometheus/rules.yml:ro');
    const config = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        dns_sd_configs?: { names: string[]; port: number }[];
        static_configs?: { targets: string[] }[];
      }[];
    };
    expect(config.rule_files).toEqual(['/etc/prometheus/rules.yml']);
    const fleet = config.scrape_configs.find((j) => j.job_name === 'evalfleet')!;
    expect(fleet.dns_sd_configs?.[0]?.names.sort()).toEqual([...workers].sort());
    expect(fleet.dns_sd_configs?.[0]?.port).toBe(Number(compose.services['producer']!.environment?.['METRICS_PORT']));
    expect(config.scrape_configs.find((j) => j.job_name === 'rabbitmq')?.static_configs?.[0]?.targets).toEqual([
      'rabbitmq:15692',
    ]);
    const grafana = compose.services['grafana']!;
    expect(grafana.volumes).toContain('./deploy/grafana/dashboards:/var/lib/grafana/dashboards/evalfleet:ro');
    const ds = readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8');
    expect(ds).toContain('url: http://prometheus:9090');
  });

  it('every file it mounts from the repository exists', () => {
    const all = [...Object.values(compose.services), ...Object.values(hostDocker.services)];
    for (const v of all.flatMap((s) => s.volumes ?? [])) {
      const host = v.split(':')[0]!;
      if (!host.startsWith('./') || host === './.cache/compose') continue;
      expect(existsSync(host), v).toBe(true);
    }
  });

  // Skipped only outside CI on a machine with no Compose at all (CI installs Debian's docker-compose).
  it.runIf(composeTool !== undefined || process.env.CI === 'true')(
    'docker compose config accepts the stack and the override',
    () => {
      expect(composeTool, 'no docker compose plugin and no docker-compose').toBeDefined();
      composeConfig(['docker-compose.yml']);
      composeConfig(['docker-compose.yml', 'docker-compose.host-docker.yml']);
    },
  );
});
