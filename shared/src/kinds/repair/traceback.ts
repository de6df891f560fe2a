/** One frame of a Python traceback. */
export type Frame = { file: string; line: number; func: string };

const frameLine = /^\s*File "([^"]+)", line (\d+), in (\S+)/;

/** The frames of a Python traceback (pytest's long format prints them too), outermost first. */
export function parseFrames(traceback: string): Frame[] {
  const frames: Frame[] = [];
  for (const line of traceback.split('\n')) {
    const m = frameLine.exec(line);
    if (m) frames.push({ file: m[1] ?? '', line: Number(m[2]), func: m[3] ?? '' });
  }
  // pytest's short form: `path/to/mod.py:12: in func`
  for (const line of traceback.split('\n')) {
    const m = /^([\w./-]+\.py):(\d+): in (\S+)/.exec(line.trim());
    if (m) frames.push({ file: m[1] ?? '', line: Number(m[2]), func: m[3] ?? '' });
  }
  return frames;
}

/** The project file a traceback path points at (absolute in the sandbox, relative in pytest output). */
export function projectFile(frameFile: string, paths: readonly string[]): string | undefined {
  const normal = frameFile.replace(/\\/g, '/');
  return (
    paths.find((p) => normal === p) ??
    paths.filter((p) => normal.endsWith(`/${p}`)).sort((a, b) => b.length - a.length)[0]
  );
}
