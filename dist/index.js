import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 746:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  Oc: () => (/* binding */ MaterializeWorker),
  C8: () => (/* binding */ isMaterializeWorker),
  sc: () => (/* binding */ serveWorker),
  mx: () => (/* binding */ useWorkerEntry),
  cq: () => (/* binding */ workerAvailable)
});

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(24);
;// CONCATENATED MODULE: external "node:worker_threads"
const external_node_worker_threads_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");
// EXTERNAL MODULE: ./src/download/shared-frontier.ts
var shared_frontier = __nccwpck_require__(893);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __nccwpck_require__(916);
;// CONCATENATED MODULE: ./src/archive/materialize-worker.ts
/**
 * The extraction in a thread of its own, so that it overlaps the download instead of taking
 * turns with it on the main thread: the main thread receives the HTTP bodies and writes the
 * spool; the worker reads the spool as it fills (SharedFrontier), decodes and extracts. On
 * babel's snapshot on 2 cores, the download and the extraction on one thread took their sum
 * (pinned to one core it was about as fast, bench/results.md).
 *
 * The worker runs the same bundle as the action (ncc makes one file; a worker needs a file
 * to start from), so each entry point registers itself with useWorkerEntry() and dispatches
 * on isMainThread. Without a registered entry (jest runs the sources) the extraction runs on
 * the calling thread, which is the same code.
 */




const ROLE = 'cachew-restore:materialize';
/**
 * The worker's young generation. Its garbage is the per-entry bookkeeping, short-lived; a
 * small young generation keeps reusing the same pages. On babel's snapshot at concurrency 32
 * (4 runs each): 7.6k-8.0k minor faults in the worker and 137-143 MB peak RSS at 4 MB,
 * against 11.8k-11.9k and 151-158 MB at V8's default, with the same wall and CPU time.
 */
const YOUNG_GENERATION_MB = 4;
/** The bundle file this process started from, when it can serve as a worker's entry. */
let entry;
/** Called by an entry point (src/index.ts): workers may be started from `url`. */
function useWorkerEntry(url) {
    entry = url;
}
function workerAvailable() {
    return entry !== undefined;
}
/** True in a thread started by startWorker(): the entry point then calls serveWorker(). */
function isMaterializeWorker() {
    return !external_node_worker_threads_namespaceObject.isMainThread && external_node_worker_threads_namespaceObject.workerData?.role === ROLE;
}
/** A worker started ahead of its job, so that loading the bundle overlaps the download. */
class MaterializeWorker {
    worker;
    outcome;
    callbacks = {};
    started = false;
    constructor() {
        if (entry === undefined)
            throw new Error('internal: no worker entry registered');
        this.worker = new external_node_worker_threads_namespaceObject.Worker(entry, {
            workerData: { role: ROLE },
            resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB }
        });
        this.outcome = new Promise((resolve, reject) => {
            this.worker.on('message', (message) => {
                if (message.kind === 'skip')
                    this.callbacks.onSkip?.(message.entry, message.reason);
                else if (message.kind === 'debug')
                    this.callbacks.debug?.(message.message);
                else if (message.kind === 'done')
                    resolve(message.result);
                else
                    reject(revive(message.error));
            });
            this.worker.on('error', reject);
            this.worker.on('exit', code => reject(new Error(`the extraction thread stopped (exit code ${code}) before it finished`)));
        });
        // Until run() is called nobody awaits the outcome; a failure then is reported by run().
        this.outcome.catch(() => undefined);
    }
    /**
     * Extracts the spool's snapshot into `directory` in the worker. `signal` stops it; the
     * promise settles only once the worker has let go of every file in `directory`.
     */
    async run(spool, job, signal, callbacks) {
        if (this.started)
            throw new Error('internal: a worker runs one job');
        this.started = true;
        this.callbacks = callbacks;
        const abort = () => this.post({ kind: 'abort' });
        signal.addEventListener('abort', abort, { once: true });
        try {
            this.post({
                kind: 'start',
                job: { ...job, fd: spool.fd, frontier: spool.shareFrontier() }
            });
            if (signal.aborted)
                abort();
            return await this.outcome;
        }
        finally {
            signal.removeEventListener('abort', abort);
        }
    }
    /** Stops the thread; for a worker that was never given a job, or once its job is done. */
    async close() {
        await this.worker.terminate();
    }
    post(message) {
        this.worker.postMessage(message);
    }
}
/**
 * The worker's side: waits for its job, runs it with `extract` (materialize's own path,
 * passed in so that this module does not import it) and reports back.
 */
function serveWorker(extract) {
    const port = external_node_worker_threads_namespaceObject.parentPort;
    if (port === null)
        throw new Error('internal: serveWorker outside a worker');
    const controller = new AbortController();
    const send = (message, transfer = []) => port.postMessage(message, transfer);
    port.on('message', (message) => {
        if (message.kind === 'abort') {
            controller.abort(new Error('aborted by the main thread'));
            return;
        }
        void serve(message.job);
    });
    const serve = async (job) => {
        const started = performance.now();
        try {
            const reader = new SpoolReader(job.fd, new shared_frontier/* SharedFrontier */.H(job.frontier));
            const result = await extract(reader, job, controller, {
                onSkip: (skipped, reason) => send({ kind: 'skip', entry: skipped, reason }),
                debug: job.debug ? text => send({ kind: 'debug', message: text }) : undefined
            });
            if (job.debug)
                send({ kind: 'debug', message: threadUsage(started) });
            // The stat record moves rather than being copied: with it, the post took what it took
            // without (babel/babel: 4-8 ms here, 11-15 ms to receive on the main thread).
            send({ kind: 'done', result }, [result.fileStats.buffer]);
        }
        catch (error) {
            send({ kind: 'failed', error: posted(error) });
        }
        finally {
            port.close();
        }
    };
}
/** What the extraction cost its thread, for the debug log. */
function threadUsage(started) {
    const { user, system } = process.threadCpuUsage();
    const seconds = (microseconds) => (microseconds / 1e6).toFixed(2);
    const wall = ((performance.now() - started) / 1000).toFixed(2);
    return (`Extraction thread: ${wall} s from its job's start; since its own start, CPU ` +
        `${seconds(user)} s user + ${seconds(system)} s system${threadFaults()}`);
}
/** The thread's minor page faults, where Linux tells them (the 10th field of its stat). */
function threadFaults() {
    try {
        const stat = external_node_fs_.readFileSync('/proc/thread-self/stat', 'latin1');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return `, ${fields[7]} minor page faults`;
    }
    catch {
        return '';
    }
}
/**
 * Reads a spool that another thread fills, never past its frontier, with synchronous reads
 * (a worker has its thread to itself; a read of a MiB from the page cache takes well under
 * a millisecond, and leaves libuv's threadpool to the decoder).
 */
class SpoolReader {
    fd;
    frontier;
    constructor(fd, frontier) {
        this.fd = fd;
        this.frontier = frontier;
    }
    async read(buffer, offset, length, position, signal) {
        const state = await this.frontier.waitBeyond(position, signal);
        // Why it failed is the main thread's to tell; this only stops the extraction.
        if (state.failed)
            throw new Error('the download failed');
        const available = state.frontier - position;
        if (available > 0)
            return external_node_fs_.readSync(this.fd, buffer, offset, Math.min(length, available), position);
        if (state.finalSize !== undefined && position >= state.finalSize)
            return 0;
        throw new Error(`internal: spool ended at ${state.frontier} of ${state.finalSize} bytes`);
    }
}
const REVIVABLE = {
    ExpectedError: errors/* ExpectedError */.Dh,
    ArchiveError: errors/* ArchiveError */.di,
    UnsafeEntryError: errors/* UnsafeEntryError */.vF
};
function posted(error) {
    if (!(error instanceof Error))
        return { name: 'Error', message: String(error) };
    const { name, message, stack } = error;
    const { entry, code, syscall, path } = error;
    return { name, message, stack, entry, code, syscall, path };
}
/** The error again, of the class it had where it was thrown when it is one of the expected. */
function revive(error) {
    const revived = Object.create((REVIVABLE[error.name] ?? Error).prototype);
    for (const [key, value] of Object.entries(error)) {
        if (value !== undefined)
            Object.defineProperty(revived, key, { value, writable: true, configurable: true });
    }
    return revived;
}


/***/ }),

/***/ 893:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   H: () => (/* binding */ SharedFrontier)
/* harmony export */ });
/**
 * A spool's frontier, shared with another thread: the download writes the spool on the main
 * thread while the extraction reads it in a worker (src/archive/materialize-worker.ts). The
 * writer publishes after each write; the reader waits without blocking its event loop, which
 * keeps running the decoder's callbacks meanwhile.
 */
/** Int32 slots: a version bumped on every change (what a reader waits on), and the state. */
const VERSION = 0;
const STATE = 1;
/** BigInt64 slots, after the two Int32 ones: the frontier and the final size (-1: unknown). */
const FRONTIER = 1;
const FINAL_SIZE = 2;
const RUNNING = 0;
const FAILED = 1;
/** A reader's wait is cut short this often, so that an abort is seen even with no writes. */
const WAIT_SLICE_MS = 200;
class SharedFrontier {
    buffer;
    flags;
    sizes;
    /** Over `buffer` as made by SharedFrontier.create(), in either thread. */
    constructor(buffer) {
        this.buffer = buffer;
        this.flags = new Int32Array(buffer, 0, 2);
        this.sizes = new BigInt64Array(buffer, 0, 3);
    }
    static create() {
        const frontier = new SharedFrontier(new SharedArrayBuffer(3 * 8));
        Atomics.store(frontier.sizes, FINAL_SIZE, -1n);
        return frontier;
    }
    /** The writer's side: what the spool now holds. */
    publish(state) {
        Atomics.store(this.sizes, FRONTIER, BigInt(state.frontier));
        Atomics.store(this.sizes, FINAL_SIZE, BigInt(state.finalSize ?? -1));
        Atomics.store(this.flags, STATE, state.failed ? FAILED : RUNNING);
        Atomics.add(this.flags, VERSION, 1);
        Atomics.notify(this.flags, VERSION);
    }
    read() {
        const finalSize = Number(Atomics.load(this.sizes, FINAL_SIZE));
        return {
            frontier: Number(Atomics.load(this.sizes, FRONTIER)),
            finalSize: finalSize < 0 ? undefined : finalSize,
            failed: Atomics.load(this.flags, STATE) === FAILED
        };
    }
    /**
     * The reader's side: resolves with the state once the frontier has passed `position`, the
     * download is complete, or it failed. Rejects with `signal`'s reason once it aborts.
     */
    async waitBeyond(position, signal) {
        for (;;) {
            signal?.throwIfAborted();
            // The version is read first: a change after it wakes the wait below at once.
            const version = Atomics.load(this.flags, VERSION);
            const state = this.read();
            if (state.failed || state.frontier > position || state.finalSize !== undefined)
                return state;
            const wait = Atomics.waitAsync(this.flags, VERSION, version, WAIT_SLICE_MS);
            if (wait.async)
                await wait.value;
        }
    }
}


/***/ }),

/***/ 916:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Be: () => (/* binding */ RestartRequiredError),
/* harmony export */   Dh: () => (/* binding */ ExpectedError),
/* harmony export */   N_: () => (/* binding */ TransientError),
/* harmony export */   RP: () => (/* binding */ SnapshotChangedError),
/* harmony export */   cc: () => (/* binding */ CancelledError),
/* harmony export */   dE: () => (/* binding */ CacheMissError),
/* harmony export */   di: () => (/* binding */ ArchiveError),
/* harmony export */   dz: () => (/* binding */ InputError),
/* harmony export */   gP: () => (/* binding */ ServerError),
/* harmony export */   vF: () => (/* binding */ UnsafeEntryError)
/* harmony export */ });
/**
 * Errors the action expects and explains. main.ts prints their message alone (no stack
 * trace); anything else is a bug and is reported with its stack in the debug log.
 */
class ExpectedError extends Error {
    name = 'ExpectedError';
}
/** An input that cannot be used; the message names the input and the allowed values. */
class InputError extends ExpectedError {
    input;
    name = 'InputError';
    constructor(input, detail) {
        super(`Input '${input}': ${detail}`);
        this.input = input;
    }
}
/** The archive is damaged or hostile: zstd framing, tar structure, or an unsafe entry. */
class ArchiveError extends ExpectedError {
    name = 'ArchiveError';
}
/** A tar entry that would escape the target, refused before anything is written for it. */
class UnsafeEntryError extends ArchiveError {
    entry;
    name = 'UnsafeEntryError';
    constructor(entry, reason) {
        super(`Refusing unsafe archive entry '${entry}': ${reason}`);
        this.entry = entry;
    }
}
/** The server answered with a status the action cannot go on from. */
class ServerError extends ExpectedError {
    status;
    name = 'ServerError';
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}
/** The server has no snapshot of the repository (404). Main turns it into a miss. */
class CacheMissError extends ServerError {
    name = 'CacheMissError';
}
/** The restore must start over from discovery: what was downloaded so far cannot be used. */
class RestartRequiredError extends ExpectedError {
    name = 'RestartRequiredError';
}
/** The snapshot was regenerated mid-download (412, or a different ETag or size). */
class SnapshotChangedError extends RestartRequiredError {
    name = 'SnapshotChangedError';
}
/**
 * A failure worth another try: a network error, a reset, a stall, a 5xx/429, a response
 * that ignored Range or did not match what was asked. retryAfterMs is the server's
 * Retry-After, when it sent one.
 */
class TransientError extends ExpectedError {
    retryAfterMs;
    name = 'TransientError';
    constructor(message, retryAfterMs) {
        super(message);
        this.retryAfterMs = retryAfterMs;
    }
}
/** The runner cancelled the job (SIGINT or SIGTERM) while the restore was running. */
class CancelledError extends ExpectedError {
    signal;
    name = 'CancelledError';
    constructor(signal) {
        super(`The restore was cancelled (${signal}): nothing was changed.`);
        this.signal = signal;
    }
}


/***/ }),

/***/ 407:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _archive_materialize_worker_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(746);

// The extraction's worker runs this same bundle (src/archive/materialize-worker.ts). Each
// side imports only what it runs: ncc then splits the bundle in chunks, and the worker, which
// loads only the extraction's, is ready in about half the time (40 ms instead of 60-80 ms).
if ((0,_archive_materialize_worker_js__WEBPACK_IMPORTED_MODULE_0__/* .isMaterializeWorker */ .C8)()) {
    const { serveMaterializeWorker } = await __nccwpck_require__.e(/* import() */ 426).then(__nccwpck_require__.bind(__nccwpck_require__, 426));
    serveMaterializeWorker();
}
else {
    (0,_archive_materialize_worker_js__WEBPACK_IMPORTED_MODULE_0__/* .useWorkerEntry */ .mx)(new URL(import.meta.url));
    const { run } = await Promise.all(/* import() */[__nccwpck_require__.e(426), __nccwpck_require__.e(923)]).then(__nccwpck_require__.bind(__nccwpck_require__, 923));
    await run();
}

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 421:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");

/***/ }),

/***/ 598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 474:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");

/***/ }),

/***/ 24:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 455:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");

/***/ }),

/***/ 67:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 30:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 161:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");

/***/ }),

/***/ 760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 500:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");

/***/ }),

/***/ 692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ }),

/***/ 877:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:v8");

/***/ }),

/***/ 714:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:vm");

/***/ }),

/***/ 522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/compat get default export */
/******/ (() => {
/******/ 	// getDefaultExport function for compatibility with non-harmony modules
/******/ 	__nccwpck_require__.n = (module) => {
/******/ 		var getter = module && module.__esModule ?
/******/ 			() => (module['default']) :
/******/ 			() => (module);
/******/ 		__nccwpck_require__.d(getter, { a: getter });
/******/ 		return getter;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(407);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
