import type { Command } from 'commander';

/** What `COMMAND --help` shows after the options: runnable examples, as a new user would type them. */
const EXAMPLES: Record<string, string[]> = {
  import: ['jsonl-mirror --dir /var/log/shipwright import', 'jsonl-mirror --dir logs import --stream events --final --json'],
  append: [
    `jsonl-mirror --dir logs append events '{"type":"stage.completed","issue":42,"stage":"build"}'`,
    'some-producer | jsonl-mirror --dir logs append events - --quiet',
  ],
  tail: ['jsonl-mirror --dir logs tail --status-every 5', 'jsonl-mirror --dir logs tail --feed | jq .type'],
  metrics: [
    'jsonl-mirror metrics dora --now 2026-02-11',
    'jsonl-mirror metrics stages --period 30 --csv > stages.csv',
    'jsonl-mirror metrics activity --type stage --limit 20 --nl | jq .stage',
  ],
  status: ['jsonl-mirror --dir logs status', 'jsonl-mirror --dir logs status --json | jq .totals'],
  verify: ['jsonl-mirror --dir logs verify'],
  doctor: ['jsonl-mirror --dir logs doctor'],
  query: [
    'jsonl-mirror query "SELECT type, COUNT(*) AS n FROM events GROUP BY type ORDER BY n DESC LIMIT 5"',
    `jsonl-mirror query "SELECT line FROM events WHERE type = 'stage.failed'" --nl`,
  ],
  export: ['jsonl-mirror export --stream events > /tmp/all.ndjson', 'jsonl-mirror export --sort time --since 2026-02-01 | jq .type'],
  rebuild: ['jsonl-mirror rebuild', 'jsonl-mirror rebuild --yes --final'],
  migrate: ['jsonl-mirror migrate'],
  prune: ['jsonl-mirror prune --dry-run', 'jsonl-mirror prune --yes --before 2026-01-01'],
  'shell-init': ['eval "$(jsonl-mirror --dir /var/log/shipwright shell-init)"', "jm_emit stage.completed issue=42 stage=build note='said \"done\"'"],
  completion: ['source <(jsonl-mirror completion bash)     # in ~/.bashrc', 'source <(jsonl-mirror completion zsh)      # in ~/.zshrc'],
};

/** Every command's help shows the global options (--dir, --db, --json) and its examples. */
export function addExamples(program: Command): void {
  for (const cmd of program.commands) {
    const lines = EXAMPLES[cmd.name()];
    if (lines) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
}
