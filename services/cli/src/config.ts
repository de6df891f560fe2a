import { z } from 'zod';
import { commonConfigShape, loadConfig, type Env } from '@evalfleet/shared/config';
import { artifactStoreConfigFromEnv, type ArtifactStoreConfig } from '@evalfleet/shared/storage';

const cliSchema = z.object({
  ...commonConfigShape,
  LOG_LEVEL: commonConfigShape.LOG_LEVEL.default('warn'),
});

export type CliConfig = z.infer<typeof cliSchema> & { store: ArtifactStoreConfig; env: Env };

/** The CLI's configuration: the same variables the services read, so both find the same fleet. */
export function loadCliConfig(env: Env, cwd: string): CliConfig {
  return { ...loadConfig(cliSchema, env), store: artifactStoreConfigFromEnv(env, cwd), env };
}
