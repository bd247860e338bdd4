import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { asFlags, MirrorError } from '../errors.js';
import { defaultHostId } from '../model/mirror-db.js';

export interface GlobalOptions {
  dir: string;
  /** A SQLite file's path (resolved once the command is chosen), or a postgres:// URL (the fleet mirror). */
  db: string;
  json: boolean;
  /** This machine's name in a PostgreSQL mirror (--host-id, else $JSONL_MIRROR_HOST_ID, else the hostname). */
  hostId: string;
  /** --history-dir, resolved; applied to DIR before the command's body runs. */
  historyDir?: string;
}

/** --dir, else $JSONL_MIRROR_DIR, else the current directory; --db, else $JSONL_MIRROR_DB, else DIR/mirror.db. */
export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { dir?: string; db?: string; json?: boolean; hostId?: string; historyDir?: string };
  const dir = resolve(o.dir ?? process.env.JSONL_MIRROR_DIR ?? '.');
  const db = o.db ?? process.env.JSONL_MIRROR_DB ?? join(dir, 'mirror.db');
  return { dir, db, json: Boolean(o.json), hostId: o.hostId ?? defaultHostId(), historyDir: o.historyDir === undefined ? undefined : resolve(o.historyDir) };
}

export interface CommandResult {
  /** The one JSON document printed with --json. */
  json: unknown;
  /** What a person reads on a terminal (stdout); a function is called only when it is printed (tables cost more than the answer). */
  human?: string | (() => string);
  /** The command already wrote its output (export). */
  printed?: boolean;
  exitCode?: number;
}

/** Human notes go to stderr so that stdout carries only the result. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * Prints a failure with the CLI's conventions: a one-line reason on stderr,
 * the `{"error":{code,message}}` document on stdout with --json; returns the exit code.
 */
export function reportError(err: unknown, json: boolean): number {
  const code = err instanceof MirrorError ? err.code : 'INTERNAL';
  const message = asFlags(err instanceof Error ? err.message : String(err));
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.stderr.write(`jsonl-mirror: ${message.split('\n')[0]}\n`);
  if (!(err instanceof MirrorError) && process.env.JSONL_MIRROR_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  return err instanceof MirrorError ? 1 : 70;
}

export interface ActionOptions {
  /** The command writes the mirror, so it may move a broken mirror that is provably ours aside (docs/design.md#invariant-11). */
  writes?: boolean;
}

/** A command's body: what it does once commander has parsed its flags. */
export type Run = (g: GlobalOptions, opts: Record<string, unknown>, args: string[], cmd: Command) => Promise<CommandResult> | CommandResult;

/**
 * Runs a command body with the CLI's conventions: exactly one JSON document
 * on stdout with --json, a one-line reason on stderr and a non-zero exit code
 * on failure. The body is a module imported only when its command was
 * chosen, so that starting the CLI costs the definitions alone.
 */
export function action(load: () => Promise<{ run: Run }>, how: ActionOptions = {}) {
  return async (...params: unknown[]): Promise<void> => {
    const cmd = params.at(-1) as Command;
    const g = globalsOf(cmd);
    try {
      // Which engine --db names is the store's to say: asked with the body, so that starting the CLI loads no part of it.
      const [body, place] = await Promise.all([load(), import('../ops/place.js')]);
      g.db = place.locateDb(g.db);
      // Loaded with the body: the layout's code is not needed to start, only to read the folder.
      if (g.historyDir !== undefined) (await import('../ingest/layout.js')).useHistoryDir(g.dir, g.historyDir);
      const result = await body.run(g, cmd.opts(), cmd.args, cmd);
      if (result.printed) {
        // written by the command itself
      } else if (g.json) process.stdout.write(`${JSON.stringify(result.json)}\n`);
      else {
        const human = typeof result.human === 'function' ? result.human() : result.human;
        if (human) process.stdout.write(human.endsWith('\n') ? human : `${human}\n`);
      }
      process.exitCode = result.exitCode ?? 0;
    } catch (caught) {
      const reported = how.writes ? (await import('../ops/mirror.js')).afterWriteFailure(g.db, caught) : caught;
      process.exitCode = reportError(reported, g.json);
    }
  };
}
