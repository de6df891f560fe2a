/** The bundled bugs as native records (with their `fix`), and as the JSONL file's text. */
export function records(): Record<string, unknown>[];
export function jsonl(): string;
