import { join } from 'node:path';
import { MirrorError } from '../../errors.js';
import type { Run } from '../context.js';

/** A word bash reads back as exactly this text. */
const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The emitter for bash writers. Written for bash 3.2 (macOS's): no
 * associative arrays, no ${v,,}, regexes through a variable (3.2 reads a
 * quoted regex literally). A value is escaped character by character only
 * when it holds a quote, a backslash or a control character, which the
 * replacement syntax of ${v//a/b} handles differently across bash versions
 * (5.2's patsub_replacement among them). A value is a JSON number only when
 * it is one by JSON's grammar ("42." and "007" stay strings). The line goes
 * out in one write() to an O_APPEND descriptor: bash's printf for a short
 * line, cat (whose 128 KiB buffer takes a here-string whole) for a long one.
 */
export function emitterScript(logFile: string): string {
  return `# jsonl-mirror shell emitter: jm_emit TYPE [key=value ...] appends one JSON line to $JM_LOG.
JM_LOG=\${JM_LOG:-${shellQuote(logFile)}}
_jm_str() {
  local v=$1 c o i n out slow=
  case $v in *'"'*|*'\\'*) slow=1 ;; esac
  if [ -z "$slow" ]; then
    for c in $'\\001' $'\\002' $'\\003' $'\\004' $'\\005' $'\\006' $'\\007' $'\\010' $'\\011' $'\\012' $'\\013' $'\\014' $'\\015' \\
      $'\\016' $'\\017' $'\\020' $'\\021' $'\\022' $'\\023' $'\\024' $'\\025' $'\\026' $'\\027' $'\\030' $'\\031' $'\\032' \\
      $'\\033' $'\\034' $'\\035' $'\\036' $'\\037'; do
      case $v in *"$c"*) slow=1; break ;; esac
    done
  fi
  if [ -z "$slow" ]; then _jm_out="\\"$v\\""; return; fi
  out= n=\${#v} i=0
  while [ $i -lt $n ]; do
    c=\${v:$i:1}
    case $c in
      '"') out="$out\\\\\\"" ;;
      '\\') out="$out\\\\\\\\" ;;
      *) printf -v o '%d' "'$c"
         if [ "$o" -ge 0 ] && [ "$o" -lt 32 ]; then printf -v o '\\\\u%04x' "$o"; out="$out$o"; else out="$out$c"; fi ;;
    esac
    i=$((i + 1))
  done
  _jm_out="\\"$out\\""
}
jm_emit() {
  if [ $# -lt 1 ] || [ -z "$1" ]; then echo 'jm_emit: usage: jm_emit TYPE [key=value ...]' >&2; return 2; fi
  local type=$1 kv k v line ts epoch _jm_out num='^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?$'
  shift
  if [ -n "\${EPOCHSECONDS:-}" ]; then
    epoch=$EPOCHSECONDS
    local TZ=UTC; export TZ
    printf -v ts '%(%Y-%m-%dT%H:%M:%SZ)T' "$epoch"
  else
    ts=$(date -u +%Y-%m-%dT%H:%M:%SZ) epoch=$(date -u +%s)
  fi
  _jm_str "$type"
  line="{\\"ts\\":\\"$ts\\",\\"ts_epoch\\":$epoch,\\"type\\":$_jm_out"
  for kv in "$@"; do
    case $kv in *=*) ;; *) echo "jm_emit: \\"$kv\\" is not key=value" >&2; return 2 ;; esac
    k=\${kv%%=*} v=\${kv#*=}
    case $k in ts|ts_epoch|type|'') echo "jm_emit: key \\"$k\\" is reserved or empty" >&2; return 2 ;; esac
    _jm_str "$k"; line="$line,$_jm_out:"
    if [[ $v =~ $num ]]; then line="$line$v"; else _jm_str "$v"; line="$line$_jm_out"; fi
  done
  line="$line}"
  # bash's printf writes through a 4 KiB buffer: a longer line goes through cat, which reads and writes it whole.
  if [ \${#line} -le 1000 ]; then printf '%s\\n' "$line" >> "$JM_LOG"; else cat <<< "$line" >> "$JM_LOG"; fi
}
`;
}

export const run: Run = (g, o) => {
  const stream = String(o.stream);
  if (!/^[\w.-]+$/.test(stream) || stream.endsWith('.jsonl')) {
    throw new MirrorError('INVALID_ARGUMENT', `--stream takes a stream name such as events, not "${stream}"`);
  }
  const script = emitterScript(join(g.dir, `${stream}.jsonl`));
  return { json: { script }, human: script };
};
