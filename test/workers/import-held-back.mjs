// Run by test/generations.test.ts in a worker thread: an import in "another process" that waits until the tailer's
// thread says go, signals once the first lines it read are committed, and finishes its pass (markGone) only when told.
import { workerData } from 'node:worker_threads';

const { importAll } = await import(new URL('../../dist/src/import/import.js', import.meta.url).href);
const { openStore } = await import(new URL('../../dist/src/store/open.js', import.meta.url).href);
const flag = new Int32Array(workerData.flag);
Atomics.wait(flag, 0, 0);
const store = openStore(workerData.db);
let first = true;
importAll(store, workerData.dir, {
  onProgress: () => {
    if (!first) return;
    first = false;
    Atomics.store(flag, 0, 2);
    Atomics.notify(flag, 0);
    Atomics.wait(flag, 0, 2);
  },
});
store.close();
Atomics.store(flag, 0, 4);
Atomics.notify(flag, 0);
