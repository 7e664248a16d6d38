// Placeholder until the database harness lands in the foundation commit.
export default function setup(): void {}
