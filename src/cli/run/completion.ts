import type { Command, Option } from 'commander';
import { MirrorError } from '../../errors.js';
import type { Run } from '../context.js';
import { METRIC_NAMES } from '../../api/metric-names.js';

const flags = (options: readonly Option[]): string[] => options.flatMap((o) => [o.long, o.short]).filter((f): f is string => Boolean(f));

/**
 * A bash completion function built from the commands as registered, so a
 * new command or option completes without editing this file. zsh loads the
 * same function through its bashcompinit.
 */
export function bashCompletion(program: Command): string {
  const globals = flags(program.options);
  const takesValue = [...new Set([...program.options, ...program.commands.flatMap((c) => c.options)].filter((o) => o.required || o.optional)
    .map((o) => o.long).filter(Boolean))];
  const cases = program.commands.map((c) => {
    const words = [...flags(c.options), ...globals, ...(c.name() === 'metrics' ? METRIC_NAMES : []), ...(c.name() === 'completion' ? ['bash', 'zsh'] : [])];
    return `    ${c.name()}) words='${words.join(' ')}' ;;`;
  });
  return `# jsonl-mirror completion: in ~/.bashrc (or ~/.zshrc with zsh), source <(jsonl-mirror completion bash)
_jsonl_mirror() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= words i
  case " ${takesValue.join(' ')} " in *" $prev "*) COMPREPLY=(); return ;; esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    case " ${program.commands.map((c) => c.name()).join(' ')} " in *" \${COMP_WORDS[i]} "*) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  case $cmd in
    '') words='${[...program.commands.map((c) => c.name()), ...globals].join(' ')}' ;;
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _jsonl_mirror jsonl-mirror
`;
}

export const run: Run = (_g, _o, args, cmd) => {
  const shell = args[0];
  if (shell !== 'bash' && shell !== 'zsh') throw new MirrorError('INVALID_ARGUMENT', `completion is for bash or zsh, not "${shell}"`);
  const bash = bashCompletion(cmd.parent!);
  const script = shell === 'bash' ? bash : `autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
  return { json: { shell, script }, human: script };
};
