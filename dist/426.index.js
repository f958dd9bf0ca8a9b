export const id = 426;
export const ids = [426];
export const modules = {

/***/ 608:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   QF: () => (/* binding */ recordOffsets),
/* harmony export */   Vs: () => (/* binding */ MODE_FIELD),
/* harmony export */   a6: () => (/* binding */ storeStat),
/* harmony export */   vh: () => (/* binding */ STAT_FIELDS),
/* harmony export */   zZ: () => (/* binding */ StatRecorder)
/* harmony export */ });
const STAT_FIELDS = 10;
/** The mode's field. A mode of 0 (no file type) marks an entry with no record. */
const MODE_FIELD = 6;
const NS_PER_S = 1000000000n;
const LOW_32 = 0xffffffffn;
/** Room for this many files at first; doubled when full. */
const INITIAL_SLOTS = 4096;
/**
 * Stores `stat` at `at` in `into` as git's fill_stat_data stores it: each value cast to a
 * 32-bit unsigned int, so an inode, a device number or a size beyond 32 bits keeps its low 32
 * bits, and a time before 1970 its two's complement; nanoseconds are the remainder within the
 * second, never negative.
 */
function storeStat(stat, into, at) {
    storeTime(stat.ctimeNs, into, at);
    storeTime(stat.mtimeNs, into, at + 2);
    into[at + 4] = low32(stat.dev);
    into[at + 5] = low32(stat.ino);
    into[at + MODE_FIELD] = low32(stat.mode);
    into[at + 7] = low32(stat.uid);
    into[at + 8] = low32(stat.gid);
    into[at + 9] = low32(stat.size);
}
function storeTime(ns, into, at) {
    let seconds = ns / NS_PER_S;
    let fraction = ns % NS_PER_S;
    if (fraction < 0n) {
        fraction += NS_PER_S;
        seconds -= 1n;
    }
    into[at] = low32(seconds);
    into[at + 1] = Number(fraction);
}
function low32(value) {
    return Number(value & LOW_32);
}
/** The extractor's record: the stat data of files by path, kept in one growing table. */
class StatRecorder {
    slots = new Map();
    table = new Uint32Array(INITIAL_SLOTS * STAT_FIELDS);
    used = 0;
    record(path, stat) {
        let slot = this.slots.get(path);
        if (slot === undefined) {
            if (this.used === this.table.length / STAT_FIELDS) {
                const larger = new Uint32Array(this.table.length * 2);
                larger.set(this.table);
                this.table = larger;
            }
            slot = this.used++;
            this.slots.set(path, slot);
        }
        storeStat(stat, this.table, slot * STAT_FIELDS);
    }
    /** The file at `path` was removed or changed after its record was taken. */
    forget(path) {
        this.slots.delete(path);
    }
    clear() {
        this.slots.clear();
    }
    /**
     * The records of `files`' paths in the map's order, STAT_FIELDS fields each, zeros for a
     * path without one; in an array of its own, which can be transferred to another thread.
     */
    inOrderOf(files) {
        const ordered = new Uint32Array(files.size * STAT_FIELDS);
        let at = 0;
        for (const path of files.keys()) {
            const slot = this.slots.get(path);
            if (slot !== undefined) {
                for (let field = 0; field < STAT_FIELDS; field++) {
                    ordered[at + field] = this.table[slot * STAT_FIELDS + field];
                }
            }
            at += STAT_FIELDS;
        }
        return ordered;
    }
}
/**
 * Where each path of `files` that has a record starts in `stats` (the extractor's
 * inOrderOf(files), as it arrived).
 */
function recordOffsets(files, stats) {
    if (stats.length !== files.size * STAT_FIELDS) {
        throw new Error(`internal: ${stats.length} stat fields for ${files.size} files`);
    }
    const offsets = new Map();
    let at = 0;
    for (const path of files.keys()) {
        if (stats[at + MODE_FIELD] !== 0)
            offsets.set(path, at);
        at += STAT_FIELDS;
    }
    return offsets;
}


/***/ }),

/***/ 271:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $j: () => (/* binding */ BlobHasher),
/* harmony export */   N5: () => (/* binding */ isWorktreePath),
/* harmony export */   mS: () => (/* binding */ objectFormatOf),
/* harmony export */   sH: () => (/* binding */ REPOSITORY_CONFIG)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/**
 * Git's blob ids, computed while the extractor writes each file, so that the index can be
 * trusted without git reading the tree again. A blob id is the hash of `blob <size>\0`
 * followed by the content: SHA-1, or SHA-256 in a repository whose config sets
 * `extensions.objectFormat = sha256`.
 */

/** Paths of the working tree: all but the repository itself, which git never tracks. */
function isWorktreePath(path) {
    return path !== '.git' && !path.startsWith('.git/');
}
/** The repository's config, which says which hash the blob ids use. */
const REPOSITORY_CONFIG = '.git/config';
/**
 * Blobs up to this size are hashed whole, in one call, from a copy in a reused buffer: a hash
 * object per file cost more than copying its bytes (27,000 files of 100 B to 10 KB: 190-230
 * ms with createHash, 50-80 ms copied and hashed at once).
 */
const SMALL_BLOB = 64 * 1024;
/** Computes blob ids one blob at a time: start, its bytes in order, then the id. */
class BlobHasher {
    format = 'sha1';
    small = Buffer.allocUnsafe(SMALL_BLOB + 32);
    /** Bytes gathered in `small`, or -1 while the blob streams through `stream`. */
    length = -1;
    stream;
    start(size) {
        const header = `blob ${size}\0`;
        if (size <= SMALL_BLOB) {
            this.length = this.small.write(header, 0, 'latin1');
            this.stream = undefined;
        }
        else {
            this.length = -1;
            this.stream = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)(this.format).update(header, 'latin1');
        }
    }
    update(bytes) {
        if (this.stream !== undefined) {
            this.stream.update(bytes);
        }
        else {
            this.small.set(bytes, this.length);
            this.length += bytes.length;
        }
    }
    /** The lowercase hex id of the blob since start(). */
    digest() {
        if (this.stream !== undefined)
            return this.stream.digest('hex');
        return (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.hash)(this.format, this.small.subarray(0, this.length), 'hex');
    }
}
/** The object format a repository config declares; SHA-1 when it declares none. */
function objectFormatOf(config) {
    let section = '';
    let format = 'sha1';
    for (const raw of config.toString('utf8').split('\n')) {
        // No value this reads can hold a comment character, so cutting at the first is safe.
        let line = raw.replace(/[#;].*$/, '').trim();
        const header = /^\[([^\]]*)\]\s*/.exec(line);
        if (header) {
            // '[extensions "x"]' is a subsection, another section: it does not match.
            section = header[1].trim().toLowerCase();
            line = line.slice(header[0].length);
        }
        if (section !== 'extensions')
            continue;
        const setting = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
        if (setting && setting[1].toLowerCase() === 'objectformat') {
            const value = setting[2]
                .replace(/^"(.*)"$/, '$1')
                .trim()
                .toLowerCase();
            format = value === 'sha256' ? 'sha256' : 'sha1';
        }
    }
    return format;
}


/***/ }),

/***/ 426:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  O: () => (/* binding */ materialize),
  serveMaterializeWorker: () => (/* binding */ serveMaterializeWorker)
});

// EXTERNAL MODULE: ./src/cancellation.ts
var cancellation = __webpack_require__(632);
// EXTERNAL MODULE: ./src/download/spool.ts + 1 modules
var spool = __webpack_require__(638);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(24);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(916);
// EXTERNAL MODULE: ./src/report/log.ts
var log = __webpack_require__(472);
// EXTERNAL MODULE: ./src/archive/git-blobs.ts
var git_blobs = __webpack_require__(271);
// EXTERNAL MODULE: ./src/archive/file-stats.ts
var file_stats = __webpack_require__(608);
;// CONCATENATED MODULE: ./src/archive/tar-gate.ts

/**
 * TarGate reads a tar stream's headers and hands on an entry only after its header and any
 * extended headers that belong to it have been judged; then that entry's data (file data is
 * counted and handed on, never inspected). An unsafe entry throws UnsafeEntryError before
 * the handler hears anything of it; a damaged archive throws ArchiveError.
 *
 * The gate must read every header exactly as GNU tar and bsdtar would, or a crafted archive
 * could show it one entry and a tar another. Wherever the two tars (or this parser) could
 * disagree, the gate refuses rather than guesses: strict numeric fields, no duplicated or
 * conflicting extended headers, no data on entries that should have none, no exotic types.
 *
 * Entry types:
 *   passed:  regular ('0', NUL, contiguous '7'), directory '5', symlink '2', hard link '1'
 *   skipped: character '3' and block '4' devices, FIFO '6', volume label 'V' (onSkip)
 *   refused: GNU sparse 'S' (and PAX GNU.sparse.* keys), multi-volume 'M', dumpdir 'D',
 *            old long names 'N', and any other type; a tar could only misplace them.
 *
 * Paths ('./a//b/' is 'a/b', as tar resolves it) are refused when absolute ('/x', '\x',
 * 'C:\x', 'C:x'), with a '..' component (or '...', '.. ', which Windows trims to '..'), or
 * through a symlink the archive made earlier. Symlinks are refused when their target is
 * absolute, climbs above the extraction directory, or climbs after descending. Hard links
 * must name a regular file the archive made earlier, by a path without '..' or symlinks.
 */
const BLOCK = 512;
/**
 * Extended headers are kept until their entry arrives; real ones are a few hundred bytes.
 * (libarchive rejects PAX records from 1 MB and long names over 1 MiB.)
 */
const MAX_EXTENDED_HEADER = 512 * 1024;
const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1');
/** Header field offsets and lengths (POSIX ustar layout). */
const FIELD = {
    name: [0, 100],
    mode: [100, 8],
    size: [124, 12],
    mtime: [136, 12],
    checksum: [148, 8],
    typeflag: [156, 1],
    linkname: [157, 100],
    magic: [257, 6],
    prefix: [345, 155]
};
const TYPE = {
    regular: 0x30, // '0'
    regularOld: 0x00, // NUL
    hardLink: 0x31, // '1'
    symlink: 0x32, // '2'
    charDevice: 0x33, // '3'
    blockDevice: 0x34, // '4'
    directory: 0x35, // '5'
    fifo: 0x36, // '6'
    contiguous: 0x37, // '7'
    paxEntry: 0x78, // 'x'
    paxGlobal: 0x67, // 'g'
    gnuLongName: 0x4c, // 'L'
    gnuLongLink: 0x4b, // 'K'
    gnuVolume: 0x56 // 'V'
};
const SKIPPED_TYPES = new Map([
    [TYPE.charDevice, 'character device'],
    [TYPE.blockDevice, 'block device'],
    [TYPE.fifo, 'FIFO'],
    [TYPE.gnuVolume, 'volume label']
]);
const REFUSED_TYPES = new Map([
    [0x53, 'GNU sparse file'], // 'S'
    [0x4d, 'multi-volume continuation'], // 'M'
    [0x44, 'GNU incremental dump directory'], // 'D'
    [0x4e, 'old GNU long name list'] // 'N'
]);
/** PAX keys that change how tar reads the data or names the file in ways the gate does not model. */
const REFUSED_PAX_KEY = /^(GNU\.sparse\.|GNU\.volume\.|GNU\.dumpdir$|SCHILY\.realsize$|SUN\.holesdata$)/;
/**
 * Parses a tar stream written to it in pieces of any size and hands judged entries and their
 * data to the handler. Device, FIFO and volume label entries are dropped (onSkip is told).
 * After a failure every later call throws the same error.
 */
class TarGate {
    handler;
    onSkip;
    tree;
    passed = 0;
    phase = 'header';
    failure = undefined;
    /** Input bytes consumed so far; error messages give offsets in the decoded archive. */
    position = 0;
    /** Offset of the header being judged. */
    headerAt = 0;
    /** Data and padding bytes left in the current entry or extended header. */
    remaining = 0;
    /** Of those, the data bytes still to hand on. */
    dataLeft = 0;
    pending = {};
    extendedType = 0;
    extendedSize = 0;
    /** The current extended header's data, copied (the input is not ours to keep); reused. */
    extended = Buffer.alloc(0);
    extendedLength = 0;
    /** A header split across writes is gathered here, one block reused for every split. */
    partialHeader = Buffer.alloc(BLOCK);
    partialLength = 0;
    constructor(handler, options = {}) {
        this.handler = handler;
        this.onSkip = options.onSkip;
        const usual = process.platform === 'darwin' || process.platform === 'win32';
        this.tree = new ArchiveTree(options.caseInsensitive ?? usual);
    }
    /** Entries handed on so far. */
    get entries() {
        return this.passed;
    }
    write(bytes) {
        if (this.failure !== undefined)
            throw this.failure;
        const chunk = Buffer.isBuffer(bytes)
            ? bytes
            : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        try {
            let offset = 0;
            while (offset < chunk.length)
                offset = this.consume(chunk, offset);
        }
        catch (error) {
            this.failure = error;
            throw error;
        }
    }
    /** Checks that the archive ended where it should: after its end-of-archive marker. */
    end() {
        if (this.failure !== undefined)
            throw this.failure;
        if (this.phase === 'end')
            return;
        const atBoundary = this.phase === 'header' && this.partialLength === 0 && !this.hasPending();
        const message = atBoundary
            ? `The archive ends after ${this.position} bytes without an end-of-archive marker (truncated?)`
            : `The archive is truncated: it ends inside an entry after ${this.position} bytes`;
        this.failure = new errors/* ArchiveError */.di(message);
        throw this.failure;
    }
    /** Handles input from offset on; returns the offset after what it used. */
    consume(chunk, offset) {
        switch (this.phase) {
            case 'header':
                return this.consumeHeader(chunk, offset);
            case 'data':
                return this.consumeData(chunk, offset);
            case 'extended':
                return this.consumeExtended(chunk, offset);
            case 'end':
                // tar stops at the end-of-archive marker; writers pad after it.
                this.position += chunk.length - offset;
                return chunk.length;
        }
    }
    consumeData(chunk, offset) {
        const end = offset + Math.min(this.remaining, chunk.length - offset);
        this.position += end - offset;
        this.remaining -= end - offset;
        if (this.remaining === 0)
            this.phase = 'header';
        if (this.dataLeft > 0) {
            const dataEnd = Math.min(end, offset + this.dataLeft);
            this.dataLeft -= dataEnd - offset;
            this.handler.data(chunk.subarray(offset, dataEnd));
        }
        return end;
    }
    consumeExtended(chunk, offset) {
        const end = offset + Math.min(this.remaining, chunk.length - offset);
        const kept = Math.max(0, Math.min(end, offset + this.extendedSize - this.extendedLength) - offset);
        chunk.copy(this.extended, this.extendedLength, offset, offset + kept);
        this.extendedLength += kept;
        this.position += end - offset;
        this.remaining -= end - offset;
        if (this.remaining === 0)
            this.finishExtended();
        return end;
    }
    consumeHeader(chunk, offset) {
        const available = chunk.length - offset;
        if (this.partialLength === 0 && available >= BLOCK) {
            this.headerAt = this.position;
            this.position += BLOCK;
            this.handleHeader(chunk.subarray(offset, offset + BLOCK));
            return offset + BLOCK;
        }
        if (this.partialLength === 0)
            this.headerAt = this.position;
        const taken = Math.min(BLOCK - this.partialLength, available);
        chunk.copy(this.partialHeader, this.partialLength, offset, offset + taken);
        this.partialLength += taken;
        this.position += taken;
        if (this.partialLength === BLOCK) {
            this.partialLength = 0;
            this.handleHeader(this.partialHeader);
        }
        return offset + taken;
    }
    /** Judges one header block (which is not kept: it may be the reused partial block). */
    handleHeader(block) {
        if (block.equals(ZERO_BLOCK))
            return this.endArchive();
        verifyChecksum(block, this.headerAt);
        const type = block[TYPEFLAG];
        const headerSize = readNumber(block, FIELD.size, false, this.headerAt);
        if (isExtendedHeader(type))
            return this.startExtended(type, headerSize);
        this.handleEntry(this.resolveEntry(block, type, headerSize));
    }
    startExtended(type, size) {
        if (size > MAX_EXTENDED_HEADER) {
            throw new errors/* ArchiveError */.di(`Extended tar header of ${size} bytes at byte ${this.headerAt}`);
        }
        if (type === TYPE.paxGlobal && this.hasPending()) {
            throw new errors/* ArchiveError */.di(`PAX global header between an entry's headers at byte ${this.headerAt}`);
        }
        if (this.extended.length < size)
            this.extended = Buffer.alloc(Math.max(size, 4096));
        this.extendedType = type;
        this.extendedSize = size;
        this.extendedLength = 0;
        this.remaining = padded(size);
        this.phase = 'extended';
        if (this.remaining === 0)
            this.finishExtended();
    }
    finishExtended() {
        const data = this.extended.subarray(0, this.extendedSize);
        this.phase = 'header';
        const pending = this.pending;
        switch (this.extendedType) {
            case TYPE.gnuLongName:
                if (pending.longName !== undefined)
                    throw this.duplicated('GNU long name');
                pending.longName = cString(data);
                return;
            case TYPE.gnuLongLink:
                if (pending.longLink !== undefined)
                    throw this.duplicated('GNU long link name');
                pending.longLink = cString(data);
                return;
            case TYPE.paxEntry:
                if (pending.pax !== undefined)
                    throw this.duplicated('PAX extended');
                pending.pax = parsePaxRecords(data, this.headerAt);
                return;
            default:
                checkGlobalRecords(parsePaxRecords(data, this.headerAt));
        }
    }
    duplicated(kind) {
        return new errors/* ArchiveError */.di(`Two ${kind} headers for one tar entry at byte ${this.headerAt}`);
    }
    /** Applies the extended headers the way both tars do: PAX over GNU long names over ustar. */
    resolveEntry(block, type, headerSize) {
        const { pax, longName, longLink } = this.pending;
        const ustarName = headerName(block);
        const name = pick(pax?.get('path'), longName, ustarName, 'name');
        const overridden = name === ustarName && longName === undefined
            ? NOTHING_OVERRIDDEN
            : [ustarName, longName ?? ''].filter(other => other !== '' && other !== name);
        const linkName = pick(pax?.get('linkpath'), longLink, fieldString(block, FIELD.linkname), 'link name');
        if (pax !== undefined)
            checkEntryRecords(pax, name);
        const paxSize = pax?.get('size');
        const size = paxSize === undefined ? headerSize : parsePaxSize(paxSize, name);
        const mode = readNumber(block, FIELD.mode, true, this.headerAt);
        const paxTime = pax?.get('mtime');
        const mtime = paxTime === undefined ? readTime(block, this.headerAt) : parsePaxTime(paxTime, name);
        return { type, name, linkName, size, headerSize, mode, mtime, overridden };
    }
    handleEntry(header) {
        this.pending = {};
        this.remaining = padded(header.size);
        this.phase = this.remaining > 0 ? 'data' : 'header';
        const skipReason = SKIPPED_TYPES.get(header.type);
        if (skipReason !== undefined) {
            if (header.type !== TYPE.gnuVolume)
                splitPath(header.name, header.name);
            this.dataLeft = 0;
            this.onSkip?.(display(header.name), `${skipReason} entries are not extracted`);
            return;
        }
        const entry = this.tree.admit(header);
        this.dataLeft = entry.size;
        this.passed++;
        this.handler.entry(entry);
    }
    endArchive() {
        if (this.hasPending()) {
            throw new errors/* ArchiveError */.di(`Extended tar header without an entry at byte ${this.headerAt}`);
        }
        this.phase = 'end';
    }
    hasPending() {
        const { pax, longName, longLink } = this.pending;
        return pax !== undefined || longName !== undefined || longLink !== undefined;
    }
}
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const TYPEFLAG = 156;
const NOTHING_OVERRIDDEN = [];
const NO_PARENTS = [];
/**
 * What the archive has created so far, by folded path, to judge later entries against:
 * writes through symlinks, hard links to things the archive did not make.
 */
class ArchiveTree {
    caseInsensitive;
    /** Paths that were ever symlinks; never forgotten, so a later entry cannot launder one. */
    symlinks = new Set();
    directories = new Set();
    files = new Set();
    /** The parent of the last entry admitted: a known directory. */
    lastParent = '';
    constructor(caseInsensitive) {
        this.caseInsensitive = caseInsensitive;
    }
    /** Judges an entry against what came before; returns it as the extractor needs it. */
    admit(entry) {
        const refuse = (reason) => {
            throw new errors/* UnsafeEntryError */.vF(display(entry.name), reason);
        };
        const kind = entryKind(entry, refuse);
        if (kind !== 'file' && (entry.size !== 0 || entry.headerSize !== 0)) {
            refuse(`a ${kind} entry must not carry data (size ${entry.size})`);
        }
        for (const other of entry.overridden)
            checkOverriddenName(other, entry.name);
        const simple = this.caseInsensitive ? undefined : simplePath(entry.name);
        const key = simple ?? this.keyOf(splitPath(entry.name, entry.name));
        const judged = {
            kind,
            name: entry.name,
            path: simple ?? this.pathOf(entry.name, key),
            linkName: kind === 'hard link' ? resolvedPath(entry.linkName) : entry.linkName,
            size: entry.size,
            mode: entry.mode,
            mtime: entry.mtime
        };
        if (key === '') {
            if (kind !== 'directory')
                refuse(`a ${kind} cannot take the place of the archive root`);
            return judged;
        }
        // A known directory's ancestors are known directories, and none of them is or can become
        // a symlink (a symlink may not replace a directory): only a new parent needs the walk.
        // Entries come directory by directory, so comparing with the last parent saves most
        // lookups in the set of every directory (about half their cost, see TarExtractor).
        const parent = key.slice(0, Math.max(0, key.lastIndexOf('/')));
        const known = parent === '' || parent === this.lastParent || this.directories.has(parent);
        const newParents = known ? NO_PARENTS : ancestorsOf(key);
        for (const ancestor of newParents) {
            if (this.symlinks.has(ancestor)) {
                refuse('its path passes through a symlink the archive created earlier');
            }
        }
        this.lastParent = parent;
        if (this.symlinks.has(key))
            refuse('it would replace a symlink the archive created earlier');
        if (kind === 'symlink')
            this.admitSymlink(entry, key, key.split('/').length - 1, refuse);
        if (kind === 'hard link')
            this.checkHardLinkTarget(entry.linkName, refuse);
        for (const ancestor of newParents)
            this.directories.add(ancestor);
        if (kind === 'directory')
            this.directories.add(key);
        if (kind === 'file' || kind === 'hard link')
            this.files.add(key);
        return judged;
    }
    /**
     * The key of a path: its components joined by '/', folded when names that differ only in
     * case (and so on) are one file (case-insensitive macOS and Windows volumes, Unicode
     * normalisation, characters HFS+ ignores, Windows' trailing dots and spaces). Folding can
     * only add refusals.
     */
    keyOf(components) {
        return (this.caseInsensitive ? components.map(foldName) : components).join('/');
    }
    /** The path tar writes; the key itself when no backslash or folding made them differ. */
    pathOf(name, key) {
        return this.caseInsensitive || name.includes('\\') ? resolvedPath(name) : key;
    }
    /**
     * A symlink may climb with leading '..' no higher than its own directory's depth, then only
     * descend. Climbing after a name is refused: that name could be (or later become) a symlink,
     * and then '..' would leave wherever it points, which a textual check cannot follow.
     */
    admitSymlink(entry, key, depth, refuse) {
        const target = entry.linkName;
        if (this.directories.has(key))
            refuse('a symlink would replace a directory the archive created');
        if (target === '')
            refuse('its symlink target is empty');
        if (isAbsolute(target))
            refuse(`it is a symlink to the absolute path '${display(target)}'`);
        let climbs = 0;
        let descended = false;
        for (const part of splitComponents(target)) {
            if (part === '..') {
                if (descended)
                    refuse(`its symlink target '${display(target)}' climbs with '..' after a directory name`);
                climbs++;
            }
            else if (isDotted(part)) {
                refuse(`its symlink target has the component '${display(part)}'`);
            }
            else {
                descended = true;
            }
        }
        if (climbs > depth)
            refuse(`its symlink target '${display(target)}' leads outside the extraction directory`);
        this.symlinks.add(key);
    }
    checkHardLinkTarget(target, refuse) {
        if (target === '')
            refuse('its hard link target is empty');
        if (isAbsolute(target))
            refuse(`it is a hard link to the absolute path '${display(target)}'`);
        if (splitComponents(target).some(part => part === '..' || isDotted(part))) {
            refuse(`its hard link target '${display(target)}' contains '..'`);
        }
        const key = this.keyOf(splitComponents(target));
        if (key === '')
            refuse('it is a hard link to the archive root');
        if ([...ancestorsOf(key), key].some(part => this.symlinks.has(part))) {
            refuse(`its hard link target '${display(target)}' is or passes through a symlink`);
        }
        if (!this.files.has(key)) {
            refuse(`its hard link target '${display(target)}' is not a file the archive created earlier`);
        }
    }
}
function entryKind(entry, refuse) {
    switch (entry.type) {
        case TYPE.regular:
        case TYPE.regularOld:
        case TYPE.contiguous:
            // Both tars extract a "file" whose name ends in '/' as a directory (old tar convention).
            return entry.name.endsWith('/') ? 'directory' : 'file';
        case TYPE.directory:
            return 'directory';
        case TYPE.symlink:
            return 'symlink';
        case TYPE.hardLink:
            return 'hard link';
    }
    const known = REFUSED_TYPES.get(entry.type);
    return refuse(`entry type '${typeName(entry.type)}'${known ? ` (${known})` : ''} is not supported`);
}
/** Splits a name the way tar resolves it, refusing absolute paths and climbing components. */
function splitPath(name, entryName) {
    const refuse = (reason) => {
        throw new errors/* UnsafeEntryError */.vF(display(entryName), reason);
    };
    if (name === '')
        refuse('its name is empty');
    if (isAbsolute(name))
        refuse('its path is absolute');
    const components = splitComponents(name);
    // Without '..' in the name no component can be '..' or dotted: the usual case, unscanned.
    if (name.includes('..')) {
        for (const part of components) {
            if (part === '..')
                refuse("its path contains a '..' component");
            if (isDotted(part))
                refuse(`its path contains the component '${display(part)}'`);
        }
    }
    return components;
}
/**
 * Names an extended header overrides are never used by a tar that reads the archive as the
 * gate does; they are checked anyway, against one that might not. Writers fill them with a
 * truncated or abbreviated form of the long name, whose last component may be cut anywhere
 * (to '..' from '..foo'): that one is not judged.
 */
function checkOverriddenName(other, entryName) {
    if (!other.includes('..') && !isAbsolute(other))
        return;
    const complete = splitComponents(other).slice(0, -1);
    if (isAbsolute(other) || complete.some(part => part === '..' || isDotted(part))) {
        throw new errors/* UnsafeEntryError */.vF(display(entryName), `its header also names it '${display(other)}'`);
    }
}
/**
 * The path of a name that needs no splitting, or undefined: leading './'s and one trailing
 * '/' aside, single '/'s between components, no '..' anywhere (so no component is '..' or
 * dotted), no backslash, not absolute. Real archives' names all look like this; splitting
 * each cost about 400 bytes of garbage an entry on babel/babel's tar (sampled).
 */
function simplePath(name) {
    let start = 0;
    while (name.startsWith('./', start))
        start += 2;
    // One trailing '/' (a directory's name) is dropped; tar drops it.
    const end = name.length - (name.endsWith('/') ? 1 : 0);
    const path = start === 0 && end === name.length ? name : name.slice(start, end);
    const simple = path !== '' &&
        path !== '.' &&
        !isAbsolute(path) &&
        !path.includes('..') &&
        !path.includes('\\') &&
        !path.includes('//') &&
        !path.includes('/./') &&
        !path.endsWith('/') &&
        !path.endsWith('/.');
    return simple ? path : undefined;
}
/**
 * The path tar writes: on POSIX systems only '/' separates, so 'a\\b' is one name (judged as
 * two components above, which can only refuse more).
 */
function resolvedPath(name) {
    return name
        .split('/')
        .filter(part => part !== '' && part !== '.')
        .join('/');
}
/** Both separators count: on Windows '\' is one, and refusing more is safe elsewhere. */
function splitComponents(name) {
    const parts = name.includes('\\') ? name.split(/[\\/]/) : name.split('/');
    return parts.filter(part => part !== '' && part !== '.');
}
/** The keys of a key's ancestors, outermost first: 'a/b/c' gives 'a', 'a/b'. */
function ancestorsOf(key) {
    const ancestors = [];
    for (let slash = key.indexOf('/'); slash !== -1; slash = key.indexOf('/', slash + 1)) {
        ancestors.push(key.slice(0, slash));
    }
    return ancestors;
}
/** '/x', '\x', 'C:\x' and drive-relative 'C:x' all leave the extraction directory. */
function isAbsolute(name) {
    return /^([\\/]|[A-Za-z]:)/.test(name);
}
/** Components like '...' or '.. ': Windows trims trailing dots and spaces, turning some into '..'. */
function isDotted(part) {
    return part !== '.' && /^[. ]+$/.test(part) && part.includes('..');
}
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
function foldName(part) {
    return Buffer.from(part, 'latin1')
        .toString('utf8')
        .normalize('NFC')
        .toUpperCase()
        .toLowerCase()
        .replace(IGNORABLE, '')
        .replace(/[. ]+$/, '');
}
function isExtendedHeader(type) {
    return (type === TYPE.paxEntry ||
        type === TYPE.paxGlobal ||
        type === TYPE.gnuLongName ||
        type === TYPE.gnuLongLink);
}
/** A name from a PAX record wins over a GNU long name; if both are given they must agree. */
function pick(paxValue, gnuValue, headerValue, what) {
    if (paxValue !== undefined && gnuValue !== undefined && paxValue !== gnuValue) {
        throw new errors/* UnsafeEntryError */.vF(display(paxValue), `its GNU and PAX ${what}s differ`);
    }
    return paxValue ?? gnuValue ?? headerValue;
}
/**
 * Header strings end at the first NUL or the end of their field, as both tars read them.
 * (Read in place: a header is parsed without allocating views of it.)
 */
function fieldString(block, [start, length]) {
    let end = start;
    while (end < start + length && block[end] !== 0)
        end++;
    return block.toString('latin1', start, end);
}
function cString(bytes) {
    const end = bytes.indexOf(0);
    return bytes.toString('latin1', 0, end === -1 ? bytes.length : end);
}
/** The POSIX prefix field counts only in POSIX ustar headers; GNU headers use it for times. */
function headerName(block) {
    const name = fieldString(block, FIELD.name);
    if (block[FIELD.prefix[0]] !== 0 && isPosixHeader(block)) {
        return `${fieldString(block, FIELD.prefix)}/${name}`;
    }
    return name;
}
function isPosixHeader(block) {
    const [start, length] = FIELD.magic;
    for (let i = 0; i < length; i++)
        if (block[start + i] !== USTAR_MAGIC[i])
            return false;
    return true;
}
/**
 * Reads a numeric header field in the forms that GNU tar and libarchive read alike: all NUL
 * (zero), optional leading spaces then octal digits ended by the field, a NUL or a space, or
 * (sizes only) positive base-256. GNU tar also reads base-64 and tolerates other blanks and a
 * leading NUL, where libarchive reads something else: those are refused.
 */
function readNumber(block, [start, length], octalOnly, at) {
    const end = start + length;
    if (!octalOnly && block[start] === 0x80) {
        let value = 0;
        for (let i = start + 1; i < end; i++)
            value = value * 256 + block[i];
        if (Number.isSafeInteger(value))
            return value;
        throw malformedNumber(block, start, end, at);
    }
    let i = start;
    while (i < end && block[i] === 0x20)
        i++;
    if (i === start && block[start] === 0) {
        while (i < end && block[i] === 0)
            i++;
        if (i === end)
            return 0;
        i = start;
    }
    let value = 0;
    const digitsStart = i;
    for (; i < end && block[i] >= 0x30 && block[i] <= 0x37; i++)
        value = value * 8 + block[i] - 0x30;
    if (i === digitsStart || (i < end && block[i] !== 0 && block[i] !== 0x20)) {
        throw malformedNumber(block, start, end, at);
    }
    return value;
}
function malformedNumber(block, start, end, at) {
    const raw = JSON.stringify(block.toString('latin1', start, end));
    return new errors/* ArchiveError */.di(`Malformed numeric field ${raw} in the tar header at byte ${at}`);
}
/**
 * The mtime field: as readNumber, or negative base-256 (0xff then two's complement), which
 * GNU tar writes for times before 1970.
 */
function readTime(block, at) {
    const [start, length] = FIELD.mtime;
    if (block[start] !== 0xff)
        return readNumber(block, FIELD.mtime, false, at);
    let value = 0;
    for (let i = start + 1; i < start + length; i++)
        value = value * 256 + (block[i] ^ 0xff);
    const time = -(value + 1);
    if (Number.isSafeInteger(time))
        return time;
    throw malformedNumber(block, start, start + length, at);
}
/**
 * tar accepts the POSIX (unsigned) and the historic Sun (signed) checksum; so does the gate.
 * The field must hold only octal digits, spaces and NULs: libarchive treats anything else as
 * a damaged header and scans ahead for the next one, which the gate would not follow.
 */
function verifyChecksum(block, at) {
    const [start, length] = FIELD.checksum;
    const end = start + length;
    let digitsOrBlanks = true;
    for (let i = start; i < end; i++) {
        const byte = block[i];
        if (byte !== 0 && byte !== 0x20 && (byte < 0x30 || byte > 0x37))
            digitsOrBlanks = false;
    }
    // The sum counts the checksum field as eight spaces.
    let unsigned = 0x20 * length;
    for (let i = 0; i < start; i++)
        unsigned += block[i];
    for (let i = end; i < BLOCK; i++)
        unsigned += block[i];
    const recorded = digitsOrBlanks ? readNumber(block, FIELD.checksum, true, at) : NaN;
    if (recorded === unsigned)
        return;
    let signed = unsigned;
    for (let i = 0; i < BLOCK; i++) {
        if ((i < start || i >= end) && block[i] >= 0x80)
            signed -= 0x100;
    }
    if (recorded !== signed) {
        throw new errors/* ArchiveError */.di(`Tar header checksum mismatch at byte ${at} (corrupt archive, or not a tar archive)`);
    }
}
/**
 * Parses PAX records ("LEN key=value\n"). Anything malformed is refused, NUL padding
 * included: GNU tar applies the records before it, libarchive drops the whole header and
 * falls back to the ustar name. A key given twice with two values is refused too.
 */
function parsePaxRecords(data, at) {
    const records = new Map();
    const bad = (detail) => {
        throw new errors/* ArchiveError */.di(`Malformed PAX extended header at byte ${at}: ${detail}`);
    };
    let i = 0;
    while (i < data.length) {
        let j = i;
        while (j < data.length && data[j] >= 0x30 && data[j] <= 0x39)
            j++;
        if (j === i || data[j] !== 0x20)
            bad('a record does not start with its length');
        const length = Number(data.toString('latin1', i, j));
        const end = i + length;
        if (end > data.length || end <= j + 1 || data[end - 1] !== 0x0a)
            bad('a record length is wrong');
        const equals = data.indexOf(0x3d, j + 1);
        if (equals <= j + 1 || equals >= end)
            bad('a record has no key');
        const key = data.toString('latin1', j + 1, equals);
        if (key.includes('\0'))
            bad('a key contains NUL');
        const value = data.toString('latin1', equals + 1, end - 1);
        const earlier = records.get(key);
        if (earlier !== undefined && earlier !== value)
            bad(`the key '${key}' is given twice`);
        records.set(key, value);
        i = end;
    }
    for (const key of ['path', 'linkpath']) {
        const value = records.get(key);
        if (value === '' || value?.includes('\0'))
            bad(`the '${key}' value is empty or contains NUL`);
    }
    return records;
}
function checkEntryRecords(records, name) {
    for (const key of records.keys()) {
        if (REFUSED_PAX_KEY.test(key)) {
            throw new errors/* UnsafeEntryError */.vF(display(name), `PAX key '${key}' (sparse or multi-volume data) is not supported`);
        }
    }
}
/**
 * A global header applies to every later entry in GNU tar, not in libarchive; one that
 * renames, resizes or re-dates them is refused.
 */
function checkGlobalRecords(records) {
    for (const [key, value] of records) {
        if (GLOBAL_REFUSED.has(key) || REFUSED_PAX_KEY.test(key)) {
            throw new errors/* UnsafeEntryError */.vF(display(value), `a PAX global header sets '${key}' for every entry`);
        }
    }
}
const GLOBAL_REFUSED = new Set(['path', 'linkpath', 'size', 'mtime']);
function parsePaxSize(value, name) {
    const size = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(size)) {
        throw new errors/* ArchiveError */.di(`Malformed PAX size '${display(value)}' for tar entry '${display(name)}'`);
    }
    return size;
}
/** Seconds with an optional fraction, as PAX writes times ('1700000000.123456789'). */
function parsePaxTime(value, name) {
    if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value) || !Number.isFinite(Number(value))) {
        throw new errors/* ArchiveError */.di(`Malformed PAX mtime '${display(value)}' for tar entry '${display(name)}'`);
    }
    return Number(value);
}
function padded(size) {
    return Math.ceil(size / BLOCK) * BLOCK;
}
function typeName(type) {
    return type >= 0x21 && type <= 0x7e
        ? String.fromCharCode(type)
        : `\\x${type.toString(16).padStart(2, '0')}`;
}
/**
 * Names for messages: decoded as UTF-8, control characters escaped so a name cannot forge log
 * lines, and the middle of very long names left out.
 */
function display(latin1Name) {
    const text = Buffer.from(latin1Name, 'latin1')
        .toString('utf8')
        .replace(/\p{Cc}/gu, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return text.length <= 1000 ? text : `${text.slice(0, 700)}...${text.slice(-250)}`;
}

;// CONCATENATED MODULE: ./src/archive/extract.ts
/**
 * Extraction in process: the TarGate parses and judges each entry, and the extractor writes
 * it in the same pass, with synchronous fs calls, straight from the memory the bytes arrived
 * in. On babel/babel's 332 MB tar (40,743 entries) an extractor built this way takes what
 * GNU tar takes; fresh buffers per file and worker threads were measured and did worse
 * (page faults, and no gain from parallel file creation on 2 cores).
 *
 * The tree is what `tar -x --no-same-owner --no-same-permissions --delay-directory-restore`
 * makes of the same archive: files are created exclusively (never through a symlink, never
 * into something that was there); modes are the archive's permission bits under the umask
 * (executable bits kept; setuid, setgid and sticky dropped; no owners); files, symlinks and
 * the archive's directories get the archive's mtimes (directories last, deepest first, so a
 * read-only directory can still be filled); an entry that repeats an earlier one's path
 * replaces it, as both tars do. Directories the archive implies but does not list are made
 * with the umask's default mode and the time of extraction, as tar makes them.
 *
 * Known differences from GNU tar: Node sets times from a double, so a PAX mtime with
 * nanoseconds lands within a microsecond of it (BusyBox tar, the server's, writes whole
 * seconds); access times are the time of extraction (GNU tar leaves them as created).
 *
 * While writing, it computes the git blob id of every working-tree file and symlink (see
 * git-blobs.ts), so the index can be written without git reading the tree again.
 */






const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = external_node_fs_.constants;
const CREATE_FILE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** A repository config is a few hundred bytes; a larger one is not read for the format. */
const MAX_CONFIG = 1024 * 1024;
/** Errors that mean the archive contradicts itself (a file where it later needs a directory). */
const CONFLICTS = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY']);
/** Names are latin1 strings: a character above 0x7f is a byte that is not ASCII. */
const NOT_ASCII = /[\x80-\xff]/;
/** Extracts a tar stream written to it into `directory`, an existing empty directory. */
class TarExtractor {
    gate;
    root;
    rootBytes;
    umask = process.umask();
    /** The access time of everything extracted. */
    now = Date.now() / 1000;
    /**
     * Directories on disk by path, with the permission bits they were made with (before the
     * umask; -1 for the root, made by someone else). Kept so no entry repeats a mkdir.
     */
    directories = new Map([['', -1]]);
    restores = new Map();
    /** The parent directory of the last entry made: it exists. */
    lastParent;
    skipped = [];
    blobIds = new Map();
    /** Stat data of files in blobIds, taken as each was closed; kept to follow blobIds. */
    stats = new file_stats/* StatRecorder */.zZ();
    blobs = new git_blobs/* BlobHasher */.$j();
    include;
    /** Paths left out of the sparse set, so a hard link to one is left out too. */
    leftOut = new Set();
    sparseSkipped = 0;
    closed = false;
    /** The file being written, its descriptor, and the bytes it still expects. */
    file;
    fd = -1;
    left = 0;
    /** Whether the file being written is hashed (it is in the working tree). */
    hashing = false;
    /** The repository config's bytes, while it is being written. */
    config;
    configLength = 0;
    /** File bytes written so far, for the message when the disk fills. */
    written = 0;
    constructor(directory, options = {}) {
        const names = external_node_fs_.readdirSync(directory);
        if (names.length > 0) {
            throw new Error(`Extraction directory ${directory} is not empty (${names.length} entries)`);
        }
        this.root = directory;
        this.rootBytes = Buffer.from(directory);
        this.include = options.include;
        const handler = {
            entry: (entry) => this.startEntry(entry),
            data: (bytes) => this.writeData(bytes)
        };
        this.gate = new TarGate(handler, {
            ...options,
            onSkip: (entry, reason) => {
                this.skipped.push(entry);
                options.onSkip?.(entry, reason);
            }
        });
    }
    get result() {
        return {
            entries: this.gate.entries,
            skipped: this.skipped,
            blobIds: this.blobIds,
            fileStats: this.stats.inOrderOf(this.blobIds),
            sparseSkipped: this.sparseSkipped
        };
    }
    write(bytes) {
        if (this.closed)
            throw new Error('TarExtractor: write after close');
        try {
            this.gate.write(bytes);
        }
        catch (error) {
            throw this.failure(error, '');
        }
    }
    /** Checks the archive's end, then sets the directories' modes and times. */
    end() {
        if (this.closed)
            throw new Error('TarExtractor: end after close');
        try {
            this.gate.end();
        }
        catch (error) {
            throw this.failure(error, '');
        }
        this.restoreDirectories();
    }
    /**
     * Closes the file being written, if any, for a caller that stops feeding the extractor
     * before the end (its input failed). Idempotent; after it the extractor takes no input.
     */
    close() {
        this.closed = true;
        this.closeFile();
    }
    startEntry(entry) {
        try {
            if (this.include !== undefined && this.leavesOut(entry))
                return;
            switch (entry.kind) {
                case 'file':
                    return this.openFile(entry);
                case 'directory':
                    return this.makeDirectory(entry);
                case 'symlink':
                    return this.makeSymlink(entry);
                case 'hard link':
                    return this.makeHardLink(entry);
            }
        }
        catch (error) {
            throw this.failure(error, entry.name);
        }
    }
    /**
     * Whether a sparse checkout leaves the entry out. A file left out still has its bytes in the
     * stream: `file` is set with no descriptor, so writeData reads past them.
     */
    leavesOut(entry) {
        if (!(0,git_blobs/* isWorktreePath */.N5)(entry.path))
            return false;
        if (entry.kind === 'directory') {
            // Made when a kept entry needs it; its mode and time are applied then (if it was made).
            this.restores.set(entry.path, {
                name: entry.name,
                mode: entry.mode & 0o777,
                mtime: entry.mtime
            });
            return true;
        }
        const kept = this.include(entry.path) && !(entry.kind === 'hard link' && this.leftOut.has(entry.linkName));
        if (kept) {
            // An entry that repeats a path left out earlier replaces it.
            this.leftOut.delete(entry.path);
            return false;
        }
        if (!this.leftOut.has(entry.path))
            this.sparseSkipped++;
        this.leftOut.add(entry.path);
        if (entry.kind === 'file' && entry.size > 0) {
            this.file = entry;
            this.left = entry.size;
        }
        return true;
    }
    openFile(entry) {
        const full = this.prepare(entry);
        this.fd = this.replacing(entry.path, full, () => external_node_fs_.openSync(full, CREATE_FILE, entry.mode & 0o777));
        this.file = entry;
        this.left = entry.size;
        this.hashing = (0,git_blobs/* isWorktreePath */.N5)(entry.path);
        if (this.hashing)
            this.blobs.start(entry.size);
        if (entry.path === git_blobs/* REPOSITORY_CONFIG */.sH && entry.size <= MAX_CONFIG) {
            this.config = Buffer.alloc(entry.size);
            this.configLength = 0;
        }
        if (entry.size === 0)
            this.finishFile();
    }
    writeData(bytes) {
        const entry = this.file;
        if (this.fd < 0) {
            // A file the sparse checkout leaves out.
            this.left -= bytes.length;
            if (this.left === 0)
                this.file = undefined;
            return;
        }
        try {
            for (let done = 0; done < bytes.length;) {
                done += external_node_fs_.writeSync(this.fd, bytes, done, bytes.length - done);
            }
            this.written += bytes.length;
            if (this.hashing)
                this.blobs.update(bytes);
            if (this.config !== undefined) {
                this.configLength += bytes.copy(this.config, this.configLength);
            }
            this.left -= bytes.length;
            if (this.left === 0)
                this.finishFile();
        }
        catch (error) {
            throw this.failure(error, entry.name);
        }
    }
    finishFile() {
        const entry = this.file;
        external_node_fs_.futimesSync(this.fd, this.now, timeArgument(entry.mtime));
        // The times were the file's last change (its ctime with them): an fstat now gives what an
        // lstat of the path would later, without the path walk. On babel/babel's 27,674 files this
        // costs this thread about 0.07 s of CPU and 1,000-1,500 minor faults, and saves the main
        // thread's index pass 0.10 s (0.16-0.20 s down to 0.06-0.10 s), after the extraction.
        if (this.hashing)
            this.stats.record(entry.path, external_node_fs_.fstatSync(this.fd, { bigint: true }));
        this.closeFile();
        if (this.hashing)
            this.blobIds.set(entry.path, this.blobs.digest());
        this.hashing = false;
        if (this.config !== undefined) {
            this.useFormat((0,git_blobs/* objectFormatOf */.mS)(this.config));
            this.config = undefined;
        }
    }
    closeFile() {
        this.file = undefined;
        if (this.fd < 0)
            return;
        const fd = this.fd;
        this.fd = -1;
        external_node_fs_.closeSync(fd);
    }
    /**
     * The archive's format was SHA-1 until its config said otherwise. Ids computed before the
     * config arrived used the wrong hash and are dropped: those files stay stale for git, which
     * is correct, merely slower (git hashes them once on its first status).
     */
    useFormat(format) {
        if (format === this.blobs.format)
            return;
        this.blobs.format = format;
        this.blobIds.clear();
        this.stats.clear();
    }
    makeDirectory(entry) {
        if (entry.path !== '' && !this.directories.has(entry.path)) {
            const full = this.prepare(entry);
            // Writable and searchable for now; the archive's mode comes in end().
            const mode = (entry.mode & 0o777) | 0o700;
            this.replacing(entry.path, full, () => external_node_fs_.mkdirSync(full, mode));
            this.directories.set(entry.path, mode);
        }
        this.restores.set(entry.path, {
            name: entry.name,
            mode: entry.mode & 0o777,
            mtime: entry.mtime
        });
    }
    makeSymlink(entry) {
        const full = this.prepare(entry);
        this.replacing(entry.path, full, () => external_node_fs_.symlinkSync(this.nameArgument(entry.linkName), full));
        external_node_fs_.lutimesSync(full, this.now, timeArgument(entry.mtime));
        // No stat record: symlinks are few (none in babel/babel's snapshot), and the index writer
        // lstats what has none.
        if ((0,git_blobs/* isWorktreePath */.N5)(entry.path)) {
            // Git stores a symlink as a blob of its target.
            const target = Buffer.from(entry.linkName, 'latin1');
            this.blobs.start(target.length);
            this.blobs.update(target);
            this.blobIds.set(entry.path, this.blobs.digest());
        }
    }
    makeHardLink(entry) {
        const full = this.prepare(entry);
        this.replacing(entry.path, full, () => external_node_fs_.linkSync(this.fullPath(entry.linkName), full));
        // A link changes the ctime and link count of the file linked to: its record is stale, and
        // so would be one of the link (which has none: replacing() dropped any earlier one).
        this.stats.forget(entry.linkName);
        const id = this.blobIds.get(entry.linkName);
        if (id !== undefined && (0,git_blobs/* isWorktreePath */.N5)(entry.path))
            this.blobIds.set(entry.path, id);
        else
            this.blobIds.delete(entry.path);
    }
    /**
     * Makes the entry's missing parent directories; returns the path to create. Entries come
     * directory by directory, so comparing with the last parent saves most lookups in the map
     * of every directory (measured on 39,000 names against 13,000 directories: 16 ms looking
     * each up, 8-10 ms comparing first).
     */
    prepare(entry) {
        const path = entry.path;
        const slash = path.lastIndexOf('/');
        if (slash > 0) {
            const parent = path.slice(0, slash);
            if (parent !== this.lastParent && !this.directories.has(parent))
                this.makeParents(path);
            this.lastParent = parent;
        }
        return this.fullPath(path);
    }
    /**
     * Runs `make`, which creates `path`; when something is there already, an earlier entry's,
     * replaces it as both tars do: a file or link is removed, and so is an empty directory.
     * (Found by the failing call, so the usual case costs no lookup.)
     */
    replacing(path, full, make) {
        try {
            return make();
        }
        catch (error) {
            if (error.code !== 'EEXIST')
                throw error;
        }
        if (this.directories.has(path)) {
            external_node_fs_.rmdirSync(full);
            this.directories.delete(path);
            this.restores.delete(path);
            this.lastParent = undefined;
        }
        else {
            external_node_fs_.unlinkSync(full);
            this.blobIds.delete(path);
            this.stats.forget(path);
        }
        return make();
    }
    /** Makes the directories above `path` that do not exist yet, top down. */
    makeParents(path) {
        const missing = [];
        for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
            const parent = path.slice(0, end);
            if (this.directories.has(parent))
                break;
            missing.push(parent);
        }
        for (const parent of missing.reverse()) {
            const full = this.fullPath(parent);
            try {
                external_node_fs_.mkdirSync(full, 0o777);
            }
            catch (error) {
                if (error.code !== 'EEXIST')
                    throw error;
                // Not a directory (those are all known): tar fails here too.
                throw new errors/* ArchiveError */.di(`Cannot extract '${display(path)}': '${display(parent)}' is not a directory`);
            }
            this.directories.set(parent, 0o777);
        }
    }
    restoreDirectories() {
        const depth = (path) => (path === '' ? 0 : path.split('/').length);
        const deepestFirst = [...this.restores]
            .map(([path, restore]) => ({ path, depth: depth(path), ...restore }))
            .sort((a, b) => b.depth - a.depth);
        for (const { path, name, mode, mtime } of deepestFirst) {
            // A directory of the working tree that a sparse checkout did not need was never made.
            if (path !== '' && !this.directories.has(path))
                continue;
            try {
                const full = this.fullPath(path);
                const made = this.directories.get(path) ?? -1;
                const wanted = mode & ~this.umask;
                if (made < 0 || (made & ~this.umask) !== wanted)
                    external_node_fs_.chmodSync(full, wanted);
                external_node_fs_.lutimesSync(full, this.now, timeArgument(mtime));
            }
            catch (error) {
                throw this.failure(error, name);
            }
        }
    }
    /** The path below the root for fs calls: a Buffer when the name's bytes are not ASCII. */
    fullPath(path) {
        if (path === '')
            return this.root;
        if (!NOT_ASCII.test(path))
            return `${this.root}/${path}`;
        return Buffer.concat([this.rootBytes, Buffer.from(`/${path}`, 'latin1')]);
    }
    nameArgument(name) {
        return NOT_ASCII.test(name) ? Buffer.from(name, 'latin1') : name;
    }
    /**
     * The error to throw for a failure while extracting the entry `name`; closes the file. The
     * gate's own errors (and errors already explained) pass unchanged.
     */
    failure(error, name) {
        // A lower bound of what the tree needs: what is written, and the rest of this file.
        const needed = this.written + (this.file ? this.left : 0);
        try {
            this.closeFile();
        }
        catch {
            // The descriptor is gone either way; the first failure is the one to report.
        }
        const code = error.code;
        if (error instanceof errors/* ExpectedError */.Dh || typeof code !== 'string')
            return error;
        if (code === 'ENOSPC' || code === 'EDQUOT')
            return this.diskFull(code, name, needed);
        const message = `Cannot extract '${display(name)}': ${error.message}`;
        return CONFLICTS.has(code)
            ? new errors/* ArchiveError */.di(`${message} (the archive contradicts one of its earlier entries)`)
            : new errors/* ExpectedError */.Dh(message);
    }
    diskFull(code, name, needed) {
        const what = code === 'EDQUOT' ? 'the disk quota on' : 'the filesystem of';
        return new errors/* ExpectedError */.Dh(`Not enough disk space to extract the snapshot: ${what} ${this.root} ran out ` +
            `(${this.spaceLeft()}) after ${(0,log/* formatBytes */.z)(this.written)} of files, while writing ` +
            `'${display(name)}'; the tree needs at least ${(0,log/* formatBytes */.z)(needed)}. Free some space ` +
            'or restore to a larger volume.');
    }
    spaceLeft() {
        try {
            const stats = external_node_fs_.statfsSync(this.root);
            const size = (blocks) => (0,log/* formatBytes */.z)(blocks * stats.bsize);
            const free = `${size(stats.bavail)} free of ${size(stats.blocks)}`;
            return stats.ffree === 0 ? `${free}, no free inodes` : free;
        }
        catch {
            return 'free space unknown';
        }
    }
}
/** Node turns a negative number of seconds into "now"; a Date keeps a time before 1970. */
function timeArgument(seconds) {
    return seconds >= 0 ? seconds : new Date(seconds * 1000);
}

// EXTERNAL MODULE: ./src/archive/materialize-worker.ts + 1 modules
var materialize_worker = __webpack_require__(746);
// EXTERNAL MODULE: ./src/archive/sparse-set.ts
var sparse_set = __webpack_require__(849);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(161);
// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __webpack_require__(522);
;// CONCATENATED MODULE: ./src/archive/zstd-engines.ts

/** `zstd --long=31` frames declare a 2 GiB window, which libzstd refuses by default. */
const WINDOW_LOG_MAX = 31;
/** The stream engine's output chunk: 256 KiB to 4 MiB measured alike, 16 KiB doubles the time. */
const STREAM_CHUNK_SIZE = 256 * 1024;
const EMPTY = Buffer.alloc(0);
class HandleEngine {
    handle;
    /** Filled by the handle after each write: [output bytes left, input bytes left]. */
    writeState = new Uint32Array(2);
    pending;
    reject;
    closed = false;
    constructor(Handle) {
        this.handle = new Handle();
        this.handle.onerror = (message, errno, code) => {
            const error = Object.assign(new Error(message), { errno, code });
            const reject = this.reject;
            this.pending = undefined;
            this.reject = undefined;
            reject?.(error);
        };
        const params = new Uint32Array(external_node_zlib_.constants.ZSTD_d_windowLogMax + 1).fill(0xffffffff);
        params[external_node_zlib_.constants.ZSTD_d_windowLogMax] = WINDOW_LOG_MAX;
        this.handle.init(params, undefined, this.writeState, () => this.written());
    }
    decode(input, inputOffset, inputLength, output, outputOffset, outputLength) {
        if (this.pending !== undefined)
            throw new Error('zstd engine: decode while one is running');
        return new Promise((resolve, reject) => {
            this.pending = { inputLength, outputLength, resolve };
            this.reject = reject;
            this.handle.write(external_node_zlib_.constants.Z_NO_FLUSH, input, inputOffset, inputLength, output, outputOffset, outputLength);
        });
    }
    close() {
        if (this.closed)
            return;
        this.closed = true;
        // The native side defers the close until a write in progress has finished.
        this.handle.close();
    }
    written() {
        const pending = this.pending;
        if (pending === undefined)
            return;
        this.pending = undefined;
        this.reject = undefined;
        pending.resolve({
            consumed: pending.inputLength - this.writeState[1],
            produced: pending.outputLength - this.writeState[0]
        });
    }
}
class StreamEngine {
    stream;
    /** Decoded chunks not yet copied out, the first from `queuedOffset`. */
    queued = [];
    queuedOffset = 0;
    failure;
    onFailure;
    constructor() {
        this.stream = external_node_zlib_.createZstdDecompress({
            chunkSize: STREAM_CHUNK_SIZE,
            params: { [external_node_zlib_.constants.ZSTD_d_windowLogMax]: WINDOW_LOG_MAX }
        });
        this.stream.on('data', (chunk) => this.queued.push(chunk));
        this.stream.on('error', error => {
            this.failure ??= error;
            this.onFailure?.(error);
        });
    }
    async decode(input, inputOffset, inputLength, output, outputOffset, outputLength) {
        if (this.failure)
            throw this.failure;
        let produced = this.copyOut(output, outputOffset, outputLength);
        if (produced === outputLength || inputLength === 0)
            return { consumed: 0, produced };
        // The write's callback comes after all of its output went out as 'data'.
        await new Promise((resolve, reject) => {
            this.onFailure = reject;
            this.stream.write(input.subarray(inputOffset, inputOffset + inputLength), error => error ? reject(this.failure ?? error) : resolve());
        });
        this.onFailure = undefined;
        produced += this.copyOut(output, outputOffset + produced, outputLength - produced);
        return { consumed: inputLength, produced };
    }
    close() {
        this.stream.destroy();
    }
    copyOut(output, offset, length) {
        let copied = 0;
        while (copied < length && this.queued.length > 0) {
            const chunk = this.queued[0];
            const n = chunk.copy(output, offset + copied, this.queuedOffset);
            copied += n;
            this.queuedOffset += n;
            if (this.queuedOffset === chunk.length) {
                this.queued.shift();
                this.queuedOffset = 0;
            }
        }
        return copied;
    }
}
const STREAM_ENGINE = {
    kind: 'zlib-stream',
    create: () => new StreamEngine()
};
/** The native handle's class, from a throwaway stream; undefined when it is not there. */
function nativeHandleClass() {
    const stream = external_node_zlib_.createZstdDecompress();
    try {
        return stream._handle?.constructor;
    }
    finally {
        stream.close();
    }
}
/** A handle that does not answer within this long is taken to be broken. */
const PROBE_TIMEOUT_MS = 5_000;
/**
 * Decodes a small frame through a fresh handle, its output arriving in two pieces, and checks
 * the bytes: the handle's calling convention is an internal of Node's, so it has to prove
 * itself before a snapshot is trusted to it.
 */
async function probeHandle(Handle) {
    const content = Buffer.alloc(48 * 1024);
    for (let i = 0; i < content.length; i++)
        content[i] = (i * 7 + (i >> 9)) & 0xff;
    const frame = external_node_zlib_.zstdCompressSync(content, {
        params: { [external_node_zlib_.constants.ZSTD_c_checksumFlag]: 1 }
    });
    const engine = new HandleEngine(Handle);
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer from a decode')), PROBE_TIMEOUT_MS);
    });
    try {
        const output = Buffer.alloc(content.length + 16);
        const half = content.length / 2;
        const decode = (consumed, produced) => Promise.race([
            engine.decode(consumed < frame.length ? frame : EMPTY, consumed < frame.length ? consumed : 0, frame.length - consumed, output, produced, (produced === 0 ? half : output.length) - produced),
            timeout
        ]);
        let consumed = 0;
        let produced = 0;
        for (let calls = 0; calls < 4 && produced < content.length; calls++) {
            const step = await decode(consumed, produced);
            if (calls === 0 && step.produced !== half) {
                throw new Error(`the first decode gave ${step.produced} bytes into room for ${half}`);
            }
            consumed += step.consumed;
            produced += step.produced;
        }
        if (consumed !== frame.length || produced !== content.length) {
            throw new Error(`took ${consumed} of ${frame.length} bytes and gave ${produced} of ${content.length}`);
        }
        if (!output.subarray(0, produced).equals(content))
            throw new Error('decoded wrong bytes');
    }
    finally {
        clearTimeout(timer);
        engine.close();
    }
}
/**
 * The native handle when `handleClass()` gives one that decodes a probe frame right, else
 * the public streams, with the reason.
 */
async function selectZstdEngine(handleClass = nativeHandleClass) {
    let Handle;
    try {
        const found = handleClass();
        const prototype = found
            ?.prototype;
        if (!['init', 'write', 'close'].every(name => typeof prototype?.[name] === 'function')) {
            throw new Error('zlib streams have no native handle with init, write and close');
        }
        Handle = found;
        await probeHandle(Handle);
    }
    catch (error) {
        return {
            ...STREAM_ENGINE,
            reason: `zstd: decoding through zlib streams (fresh output chunks): zlib's native handle is ` +
                `not usable on Node.js ${process.versions.node}: ${error.message}`
        };
    }
    return {
        kind: 'zlib-handle',
        create: () => new HandleEngine(Handle),
        reason: `zstd: decoding on zlib's native handle into reused buffers`
    };
}
let chosen;
/** The engine this Node.js supports best, probed once per process. */
function chooseZstdEngine() {
    chosen ??= selectZstdEngine();
    return chosen;
}
/** A named engine, for tests and measurements: 'zlib-handle' throws when it is not usable. */
async function zstdEngine(kind) {
    if (kind === 'zlib-stream')
        return { ...STREAM_ENGINE, reason: 'zstd: zlib streams, as asked' };
    const best = await chooseZstdEngine();
    if (best.kind !== 'zlib-handle')
        throw new Error(best.reason);
    return { ...best, reason: `${best.reason}, as asked` };
}

;// CONCATENATED MODULE: ./src/archive/zstd-frames.ts

/**
 * Walks the structure of a zstd stream (RFC 8878) without decompressing it: frame headers,
 * block headers and checksums are parsed so the caller knows exactly where each frame starts
 * and ends, and can hand every frame to its own decompressor. Only headers are looked at;
 * block bodies and skippable payloads are stepped over.
 */
const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC_BASE = 0x184d2a50;
/** RFC 8878 3.1.1.2: no block, compressed or not, is larger than 128 KiB. */
const BLOCK_SIZE_MAX = 128 * 1024;
const BLOCK_TYPE_RLE = 1;
const BLOCK_TYPE_RESERVED = 3;
/** Magic (4) + descriptor (1) + window (1) + dictionary id (4) + content size (8). */
const FRAME_HEADER_MAX = 18;
const STATE_NAMES = {
    magic: 'a frame magic number',
    'frame-header': 'a frame header',
    'block-header': 'a block header',
    'block-body': 'block data',
    checksum: 'the frame checksum',
    'skippable-header': 'a skippable frame header',
    'skippable-body': 'a skippable frame'
};
function zstdError(detail, offset) {
    const where = offset === undefined ? '' : ` (frame at byte ${offset})`;
    return new errors/* ArchiveError */.di(`zstd stream is damaged: ${detail}${where}`);
}
class FrameWalker {
    state = 'magic';
    /** Small header fields (magic, frame header, block header, checksum) gathered across reads. */
    scratch = new Uint8Array(FRAME_HEADER_MAX);
    scratchLength = 0;
    scratchNeeded = 4;
    /** Bytes left in the current block body or skippable frame payload. */
    remaining = 0;
    lastBlock = false;
    header;
    /** Stream offset of the first byte of the unit (frame or skippable frame) being parsed. */
    unitOffset = 0;
    framesSeen = 0;
    /** Stream offset of the next byte `walk` will see. */
    position = 0;
    /**
     * Walks the stream's next bytes and returns what they completed, in stream order. Throws
     * ArchiveError on a malformed stream.
     */
    walk(bytes) {
        const events = [];
        const length = bytes.length;
        let at = 0;
        // An empty block (zstd ends streamed frames with one) completes with no body bytes at all.
        while (at < length || (this.state === 'block-body' && this.remaining === 0)) {
            if (this.state === 'block-body' || this.state === 'skippable-body') {
                const take = Math.min(this.remaining, length - at);
                at += take;
                this.remaining -= take;
                if (this.remaining > 0)
                    break;
                if (this.state === 'skippable-body')
                    this.expect('magic', 4);
                else if (!this.lastBlock)
                    this.expect('block-header', 3);
                else if (this.header?.hasChecksum)
                    this.expect('checksum', 4);
                else
                    events.push(this.endFrame(this.position + at));
                continue;
            }
            if (this.state === 'magic' && this.scratchLength === 0)
                this.unitOffset = this.position + at;
            const take = Math.min(this.scratchNeeded - this.scratchLength, length - at);
            this.scratch.set(bytes.subarray(at, at + take), this.scratchLength);
            this.scratchLength += take;
            at += take;
            if (this.scratchLength < this.scratchNeeded)
                break;
            const event = this.fieldComplete(this.position + at);
            if (event !== undefined)
                events.push(event);
        }
        this.position += length;
        return events;
    }
    /**
     * Where the bytes begin that are neither part of a frame reported so far nor known to be
     * skippable: the start of a unit whose header is still incomplete, else `position`.
     */
    get unclaimedFrom() {
        const partial = this.state === 'frame-header' ||
            this.state === 'skippable-header' ||
            (this.state === 'magic' && this.scratchLength > 0);
        return partial ? this.unitOffset : this.position;
    }
    /** Call at the end of input: throws unless the stream ended cleanly between frames. */
    finish() {
        if (this.state !== 'magic' || this.scratchLength > 0) {
            throw zstdError(`truncated: input ended inside ${STATE_NAMES[this.state]} after ${this.position} bytes`, this.unitOffset);
        }
        if (this.framesSeen === 0) {
            throw new errors/* ArchiveError */.di(`zstd stream is empty: ${this.position} bytes of input held no zstd frame`);
        }
    }
    expect(state, bytes) {
        this.state = state;
        this.scratchLength = 0;
        this.scratchNeeded = bytes;
    }
    /** A header field is complete in `scratch`, ending before stream offset `end`: act on it. */
    fieldComplete(end) {
        switch (this.state) {
            case 'magic':
                this.magicComplete();
                return undefined;
            case 'frame-header':
                return this.frameHeaderProgress();
            case 'block-header':
                this.blockHeaderComplete();
                return undefined;
            case 'checksum':
                return this.endFrame(end);
            case 'skippable-header':
                this.state = 'skippable-body';
                this.remaining = readU32(this.scratch, 4);
                if (this.remaining === 0)
                    this.expect('magic', 4);
                return undefined;
            default:
                throw new Error(`zstd frame walker: no field in state ${this.state}`);
        }
    }
    magicComplete() {
        const magic = readU32(this.scratch, 0);
        if (magic === ZSTD_MAGIC) {
            this.state = 'frame-header';
            this.scratchNeeded = 5;
        }
        else if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC_BASE) {
            this.state = 'skippable-header';
            this.scratchNeeded = 8;
        }
        else {
            const what = this.framesSeen === 0 ? 'not a zstd stream' : 'bad frame magic number';
            throw zstdError(`${what} 0x${magic.toString(16).padStart(8, '0')}`, this.unitOffset);
        }
    }
    /** The descriptor byte tells how long the rest of the header is; then parse it whole. */
    frameHeaderProgress() {
        const descriptor = this.scratch[4];
        const singleSegment = (descriptor & 0x20) !== 0;
        if (descriptor & 0x08) {
            throw zstdError('reserved bit set in the frame header descriptor', this.unitOffset);
        }
        const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3];
        const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
        const headerLength = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes;
        if (this.scratchLength < headerLength) {
            this.scratchNeeded = headerLength;
            return undefined;
        }
        const dictionaryAt = 5 + (singleSegment ? 0 : 1);
        const dictionaryId = readUnsigned(this.scratch, dictionaryAt, dictionaryIdBytes);
        if (dictionaryId !== 0) {
            throw zstdError(`frame needs dictionary ${dictionaryId}, which is not available`, this.unitOffset);
        }
        this.header = { offset: this.unitOffset, hasChecksum: (descriptor & 0x04) !== 0 };
        this.framesSeen += 1;
        this.expect('block-header', 3);
        return { kind: 'frame', header: this.header };
    }
    blockHeaderComplete() {
        const word = this.scratch[0] | (this.scratch[1] << 8) | (this.scratch[2] << 16);
        const type = (word >> 1) & 3;
        const size = word >>> 3;
        if (type === BLOCK_TYPE_RESERVED) {
            throw zstdError('block uses the reserved block type 3', this.header?.offset);
        }
        if (size > BLOCK_SIZE_MAX) {
            throw zstdError(`block of ${size} bytes exceeds the 128 KiB limit`, this.header?.offset);
        }
        this.lastBlock = (word & 1) !== 0;
        this.state = 'block-body';
        // An RLE block stores its one repeated byte; its size field is the decompressed length.
        this.remaining = type === BLOCK_TYPE_RLE ? 1 : size;
    }
    endFrame(end) {
        const header = this.header;
        if (header === undefined)
            throw new Error('zstd frame walker: frame end without a header');
        this.header = undefined;
        this.expect('magic', 4);
        return { kind: 'end', header, end };
    }
}
function readU32(bytes, at) {
    return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}
/** Little-endian unsigned integer of up to 4 bytes. */
function readUnsigned(bytes, at, length) {
    let value = 0;
    for (let i = length - 1; i >= 0; i--)
        value = value * 256 + bytes[at + i];
    return value;
}

;// CONCATENATED MODULE: ./src/archive/zstd.ts



/** A source over a whole file, for the runner cache, tests and benchmarks. */
function fileSource(handle) {
    return {
        read: async (buffer, offset, length, position) => (await handle.read(buffer, offset, length, position)).bytesRead
    };
}
/**
 * Frames decoded at once: one core is left to the main thread, which runs the sink
 * (extracting and hashing files), up to three lanes (libuv's threadpool has four threads and
 * file reads need one). On a 2-core machine that is one lane, which measured best
 * (bench/decode.ts, babel's 223 MiB pzstd snapshot, the sink hashing with SHA-1, medians of
 * three): 0.69 / 0.66 / 0.65 s at 1 / 2 / 3 lanes, alike within the noise, while minor faults
 * grew 2.6k / 6.0k / 8.7k and peak RSS 77 / 90 / 100 MiB. The decoder and the main thread
 * already fill two cores; more lanes pay off only where there are more.
 */
function defaultZstdParallelism() {
    return Math.max(1, Math.min(external_node_os_.availableParallelism() - 1, 3));
}
const MIB = 1024 * 1024;
/** Compressed bytes per read: one read per MiB costs nothing next to decoding it. */
const INPUT_BLOCK = MIB;
/**
 * Input blocks: a lane streams its frame through two while the reader fills two more. More
 * read-ahead gained nothing and cost its first-touch faults: on babel's 223 MiB pzstd
 * snapshot at parallelism 1, 18 blocks took 6.2k minor faults and 0.30 s of CPU, 4 blocks
 * 2.6k faults and 0.22 s, with the same wall time.
 */
const INPUT_BLOCKS_PER_LANE = 2;
const INPUT_BLOCKS_FOR_READER = 2;
/**
 * Decoded bytes per decoder call and per sink write. 256 KiB to 1 MiB measured alike; 128 KiB
 * was slower, and fewer calls leave the main thread more time for the sink.
 */
const OUTPUT_BLOCK = MIB;
/** A pzstd frame's decoded size (8 MiB) with room to spare: what a waiting frame may hold. */
const FRAME_BUDGET = 9 * MIB;
/** Output blocks kept for the frame next in line, so that it can always stream. */
const OUTPUT_RESERVE = 2;
class Pool {
    max;
    make;
    free = [];
    created = 0;
    constructor(max, make) {
        this.max = max;
        this.make = make;
    }
    /** An item, unless no more than `reserve` could still be had. */
    take(reserve = 0) {
        if (this.free.length + this.max - this.created <= reserve)
            return undefined;
        // The most recently returned block is the likeliest to be in cache.
        const reused = this.free.pop();
        if (reused !== undefined)
            return reused;
        this.created += 1;
        return this.make();
    }
    give(item) {
        this.free.push(item);
    }
}
const zstd_EMPTY = Buffer.alloc(0);
/**
 * Decodes the zstd stream that `source` holds into `sink`: `sink.write` is called with the
 * decoded bytes in order, as views into memory that is reused once it returns, then
 * `sink.end()`. Rejects with an ArchiveError naming zstd and the frame's offset for a
 * damaged or truncated stream, with what the source or sink threw, or with the signal's
 * reason; it settles only once no decoder is still working.
 */
async function decodeZstd(source, sink, options = {}) {
    const parallelism = options.parallelism ?? defaultZstdParallelism();
    if (!Number.isInteger(parallelism) || parallelism < 1) {
        throw new RangeError(`zstd parallelism must be a positive integer, not ${parallelism}`);
    }
    options.signal?.throwIfAborted();
    const createEngine = await engineFactory(options, parallelism);
    return new DecodeRun(source, sink, parallelism, createEngine).run(options.signal);
}
async function engineFactory(options, parallelism) {
    if (typeof options.engine === 'function')
        return options.engine;
    const choice = options.engine ? await zstdEngine(options.engine) : await chooseZstdEngine();
    options.debug?.(`${choice.reason}; up to ${parallelism} frame(s) at once`);
    return choice.create;
}
class DecodeRun {
    source;
    sink;
    parallelism;
    createEngine;
    inputs;
    outputs;
    maxOpenFrames;
    /** Frames not yet wholly delivered, in stream order: the first is next in line. */
    frames = [];
    /** Frames no lane has taken yet, in stream order. */
    waiting = [];
    readerDone = false;
    failure;
    /** Aborts a read that waits for the source once the run has failed. */
    controller = new AbortController();
    wakers = [];
    wakeScheduled = false;
    compressedBytes = 0;
    decodedBytes = 0;
    constructor(source, sink, parallelism, createEngine) {
        this.source = source;
        this.sink = sink;
        this.parallelism = parallelism;
        this.createEngine = createEngine;
        const inputBlocks = INPUT_BLOCKS_PER_LANE * parallelism + INPUT_BLOCKS_FOR_READER;
        this.inputs = new Pool(inputBlocks, () => ({
            bytes: Buffer.allocUnsafeSlow(INPUT_BLOCK),
            position: 0,
            filled: 0,
            refs: 0
        }));
        const outputBlocks = OUTPUT_RESERVE + 1 + Math.ceil(((parallelism - 1) * FRAME_BUDGET) / OUTPUT_BLOCK);
        this.outputs = new Pool(outputBlocks, () => ({
            bytes: Buffer.allocUnsafeSlow(OUTPUT_BLOCK),
            filled: 0,
            delivered: 0
        }));
        this.maxOpenFrames = 2 * parallelism + 2;
    }
    async run(signal) {
        const onAbort = () => this.fail(signal?.reason, -Infinity);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
            const lanes = Array.from({ length: this.parallelism }, () => this.lane());
            await this.read().catch((error) => this.fail(error, this.compressedBytes));
            this.readerDone = true;
            this.touch();
            await Promise.all(lanes);
        }
        finally {
            signal?.removeEventListener('abort', onAbort);
        }
        if (this.failure)
            throw this.failure.error;
        if (this.frames.length > 0)
            throw new Error('zstd decoder: frames left undelivered');
        this.sink.end();
        return { compressedBytes: this.compressedBytes, decodedBytes: this.decodedBytes };
    }
    /** Keeps the failure nearest the start of the stream; -Infinity (abort, sink) beats all. */
    fail(error, offset) {
        if (this.failure === undefined || offset < this.failure.offset) {
            this.failure = { error, offset };
        }
        this.controller.abort(error);
        this.touch();
    }
    /**
     * Something a waiting task may be waiting for has changed: the tasks waiting in changed()
     * check again, once the current task yields. A task that finds nothing for it waits again
     * without touching anything, so waking never feeds itself.
     */
    touch() {
        if (this.wakeScheduled)
            return;
        this.wakeScheduled = true;
        queueMicrotask(() => {
            this.wakeScheduled = false;
            const wakers = this.wakers;
            this.wakers = [];
            for (const resume of wakers)
                resume();
        });
    }
    /** Resolves at the next change of state: more input, freed blocks, a frame delivered. */
    changed() {
        return new Promise(resolve => this.wakers.push(resolve));
    }
    async read() {
        const walker = new FrameWalker();
        /** Blocks the reader still holds: the one it fills and any with bytes not yet claimed. */
        const held = [];
        let block;
        /** Bytes before this offset belong to a frame's pieces or were skipped. */
        let claimed = 0;
        let open;
        for (;;) {
            if (block === undefined || block.filled === block.bytes.length) {
                block = await this.takeInput();
                if (block === undefined)
                    return;
                block.position = walker.position;
                block.filled = 0;
                block.refs = 1;
                held.push(block);
            }
            const n = await this.source.read(block.bytes, block.filled, block.bytes.length - block.filled, walker.position, this.controller.signal);
            if (this.failure)
                return;
            if (n === 0)
                break;
            const from = block.filled;
            block.filled += n;
            this.compressedBytes += n;
            for (const event of walker.walk(block.bytes.subarray(from, from + n))) {
                if (event.kind === 'frame') {
                    if (!(await this.roomForFrame()))
                        return;
                    open = this.openFrame(event.header);
                    claimed = event.header.offset;
                }
                else if (open !== undefined) {
                    claim(open, held, claimed, event.end);
                    claimed = event.end;
                    open.inputDone = true;
                    open = undefined;
                }
            }
            if (open !== undefined) {
                claim(open, held, claimed, walker.position);
                claimed = walker.position;
            }
            else {
                claimed = walker.unclaimedFrom;
            }
            while (held.length > 1 && held[0].position + held[0].filled <= claimed) {
                this.releaseInput(held.shift());
            }
            this.touch();
        }
        walker.finish();
        for (const done of held.splice(0))
            this.releaseInput(done);
    }
    async takeInput() {
        for (;;) {
            if (this.failure)
                return undefined;
            const block = this.inputs.take();
            if (block !== undefined)
                return block;
            await this.changed();
        }
    }
    async roomForFrame() {
        while (!this.failure && this.frames.length >= this.maxOpenFrames)
            await this.changed();
        return !this.failure;
    }
    openFrame(header) {
        const frame = {
            header,
            pieces: [],
            inputDone: false,
            outputs: [],
            decoded: false
        };
        this.frames.push(frame);
        this.waiting.push(frame);
        this.touch();
        return frame;
    }
    releaseInput(block) {
        block.refs -= 1;
        if (block.refs > 0)
            return;
        this.inputs.give(block);
        this.touch();
    }
    /** Decodes frames in stream order, one at a time, on an engine of its own. */
    async lane() {
        let engine;
        try {
            for (let frame; (frame = await this.nextFrame()) !== undefined;) {
                engine ??= this.createEngine(this.controller.signal);
                try {
                    await this.decodeFrame(frame, engine);
                }
                catch (error) {
                    this.fail(asArchiveError(error, frame.header), frame.header.offset);
                    return;
                }
            }
        }
        catch (error) {
            this.fail(error, -Infinity);
        }
        finally {
            engine?.close();
        }
    }
    async nextFrame() {
        for (;;) {
            if (this.failure)
                return undefined;
            const frame = this.waiting.shift();
            if (frame !== undefined)
                return frame;
            if (this.readerDone)
                return undefined;
            await this.changed();
        }
    }
    async decodeFrame(frame, engine) {
        let outputWasFull = false;
        for (;;) {
            if (this.failure)
                return;
            const call = this.startCall(frame, engine, outputWasFull);
            if (call === 'done')
                break;
            // Delivering while the engine works keeps the sink and the decoder busy at once.
            this.deliver();
            if (call === 'wait') {
                await this.changed();
                continue;
            }
            const step = await call.step;
            outputWasFull = this.account(frame, call, step);
            if (call.piece !== undefined && step.consumed === 0 && step.produced === 0) {
                throw zstdError('the decoder made no progress', frame.header.offset);
            }
        }
        // libzstd checks the checksum and any declared content size at the frame's end.
        frame.decoded = true;
        this.touch();
        this.deliver();
    }
    /**
     * Starts the frame's next decoder call, or says why not: 'done' when the frame is decoded,
     * 'wait' when it needs input that has not arrived or an output block.
     */
    startCall(frame, engine, outputWasFull) {
        const piece = frame.pieces[0];
        // A call that filled its output may have more to give, even with no more input.
        if (piece === undefined && !outputWasFull)
            return frame.inputDone ? 'done' : 'wait';
        let block = frame.outputs.at(-1);
        if (block === undefined || block.filled === block.bytes.length) {
            block = this.outputs.take(frame === this.frames[0] ? 0 : OUTPUT_RESERVE);
            if (block === undefined)
                return 'wait';
            block.filled = 0;
            block.delivered = 0;
            frame.outputs.push(block);
        }
        const outputLength = block.bytes.length - block.filled;
        const step = engine.decode(piece?.block.bytes ?? zstd_EMPTY, piece?.start ?? 0, piece === undefined ? 0 : piece.end - piece.start, block.bytes, block.filled, outputLength);
        return { piece, block, outputLength, step };
    }
    /** Books a finished call; true when it filled its output. */
    account(frame, call, step) {
        call.block.filled += step.produced;
        const piece = call.piece;
        if (piece !== undefined) {
            piece.start += step.consumed;
            if (piece.start === piece.end) {
                frame.pieces.shift();
                this.releaseInput(piece.block);
            }
        }
        return step.produced === call.outputLength;
    }
    /** Hands the sink everything the frames next in line have decoded, and frees its blocks. */
    deliver() {
        try {
            while (!this.failure && this.frames.length > 0) {
                const head = this.frames[0];
                while (!this.failure && head.outputs.length > 0) {
                    const block = head.outputs[0];
                    if (block.filled > block.delivered) {
                        this.sink.write(block.bytes.subarray(block.delivered, block.filled));
                        this.decodedBytes += block.filled - block.delivered;
                        block.delivered = block.filled;
                    }
                    // The frame's last block takes more output until it is full or the frame is done.
                    if (!head.decoded && block.filled < block.bytes.length)
                        break;
                    head.outputs.shift();
                    this.outputs.give(block);
                    this.touch();
                }
                if (!head.decoded)
                    break;
                this.frames.shift();
                this.touch();
            }
        }
        catch (error) {
            this.fail(error, -Infinity);
        }
    }
}
/** Adds stream bytes [from, to) to the frame's pieces, from the blocks that hold them. */
function claim(frame, held, from, to) {
    for (const block of held) {
        const start = Math.max(from, block.position) - block.position;
        const end = Math.min(to, block.position + block.filled) - block.position;
        if (start >= end)
            continue;
        const last = frame.pieces.at(-1);
        if (last !== undefined && last.block === block && last.end === start) {
            last.end = end;
        }
        else {
            frame.pieces.push({ block, start, end });
            block.refs += 1;
        }
    }
}
/** libzstd's complaints (code ZSTD_error_*) about a frame become ArchiveErrors naming it. */
function asArchiveError(error, header) {
    const code = error?.code;
    if (typeof code !== 'string' || !code.startsWith('ZSTD_error'))
        return error;
    return zstdError(error.message, header.offset);
}

;// CONCATENATED MODULE: ./src/archive/materialize.ts
/**
 * The one path from a snapshot's bytes to a tree: zstd decoded in process into the tar
 * extractor, which writes the files and computes their blob ids in the same pass. The bytes
 * may still be arriving (a download filling its spool) or be whole (the runner cache, a file);
 * either way the reads follow what is there, so extraction overlaps the download. Given a
 * worker (src/archive/materialize-worker.ts), the decode and extraction run in it, and the
 * thread that calls is left to the download.
 */






/**
 * Decodes and extracts `bytes` into `directory` (an empty staging directory). The first
 * failure, of the bytes' arrival or of the extraction, aborts the controller, so whatever
 * feeds the bytes stops too, and is rethrown once both have settled.
 */
async function materialize(bytes, directory, options) {
    const { controller, worker } = options;
    const signal = (0,cancellation/* orCancelled */.Nr)(controller.signal);
    let first;
    const stopOnFailure = (error) => {
        if (first)
            return;
        first = { error };
        controller.abort(error);
    };
    const extraction = worker
        ? inWorker(worker, bytes.source, directory, signal, options)
        : extract(bytes.source, directory, signal, options);
    const [, result] = await Promise.all([
        bytes.complete.catch(stopOnFailure),
        extraction.catch(stopOnFailure)
    ]);
    if (first)
        throw first.error;
    return result;
}
async function inWorker(worker, source, directory, signal, options) {
    if (!(source instanceof spool/* Spool */.Q))
        throw new Error('internal: a worker reads a spool');
    try {
        return await worker.run(source, { directory, sparse: options.sparse, debug: options.debug !== undefined }, signal, options);
    }
    finally {
        await worker.close();
    }
}
/** The decode and extraction on this thread. */
async function extract(source, directory, signal, options) {
    const extractor = new TarExtractor(directory, {
        onSkip: options.onSkip,
        include: options.sparse ? (0,sparse_set/* sparseFilter */.v)(options.sparse) : undefined
    });
    try {
        await decodeZstd(source, extractor, { signal, debug: options.debug });
        return extractor.result;
    }
    finally {
        // Closes the file a failed or aborted extraction may still hold open.
        extractor.close();
    }
}
/** In a worker started by MaterializeWorker: serves its job with the same extraction. */
function serveMaterializeWorker() {
    (0,materialize_worker/* serveWorker */.sc)((source, job, controller, callbacks) => extract(source, job.directory, controller.signal, { ...callbacks, sparse: job.sparse }));
}


/***/ }),

/***/ 849:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   H: () => (/* binding */ conePatternProblem),
/* harmony export */   v: () => (/* binding */ sparseFilter)
/* harmony export */ });
/**
 * Which working-tree paths a sparse checkout keeps, decided while the snapshot is extracted so
 * that files outside the set are never written. Git has the last word: after extraction,
 * `git sparse-checkout set` (src/git/finish.ts) writes the configuration and marks the index,
 * and removes any file it excludes that was written here. So where this module cannot be sure
 * (a pattern syntax it does not model), it keeps the path: a file kept wrongly costs one
 * unlink, but a file skipped wrongly would be missing from a tree git thinks is complete.
 *
 * The rules are git's (Documentation/git-sparse-checkout.txt, gitignore.txt):
 * - cone mode: the patterns are directories. Kept are every file at the top level, every file
 *   below a listed directory, and the files directly inside each ancestor of one.
 * - non-cone mode: gitignore patterns, the last one that matches deciding. A file's own path
 *   is tried first, then, while no pattern matched, each parent directory up to the top
 *   (a pattern that matches a directory decides for everything below it); no match excludes.
 */
/** Characters git refuses in cone mode without --skip-checks: they look like patterns. */
const CONE_SPECIAL = /[*?[\]\\]/;
/**
 * Why `pattern` is not a directory cone mode takes, or undefined. Git itself fails the same
 * way (`specify directories rather than patterns`), but only after the download.
 */
function conePatternProblem(pattern) {
    if (pattern.startsWith('/'))
        return `'${pattern}' starts with '/'; give directories (src/app)`;
    if (CONE_SPECIAL.test(pattern)) {
        return `'${pattern}' has one of *?[]\\ in it; give directories in cone mode, or set sparse-checkout-cone-mode: false for patterns`;
    }
    const parts = normalizeDirectory(pattern);
    if (parts === undefined)
        return `'${pattern}' is outside the repository`;
    return undefined;
}
/** A cone directory's components, as git normalizes it ('./a//b/' is a/b); undefined above the top. */
function normalizeDirectory(pattern) {
    const parts = [];
    for (const part of pattern.split('/')) {
        if (part === '' || part === '.')
            continue;
        if (part === '..') {
            if (parts.pop() === undefined)
                return undefined;
            continue;
        }
        parts.push(part);
    }
    return parts;
}
/** Git matches name bytes; the extractor's paths are latin1 strings of those bytes. */
function asLatin1(text) {
    return Buffer.from(text, 'utf8').toString('latin1');
}
function sparseFilter(sparse) {
    return sparse.cone ? coneFilter(sparse.patterns) : nonConeFilter(sparse.patterns);
}
function coneFilter(patterns) {
    const recursive = [];
    const parents = new Set(['']);
    for (const pattern of patterns) {
        const parts = normalizeDirectory(asLatin1(pattern));
        // The top itself: everything is in the cone.
        if (parts === undefined || parts.length === 0)
            return () => true;
        recursive.push(`${parts.join('/')}/`);
        for (let depth = 1; depth < parts.length; depth++)
            parents.add(parts.slice(0, depth).join('/'));
    }
    return path => {
        const slash = path.lastIndexOf('/');
        if (parents.has(slash < 0 ? '' : path.slice(0, slash)))
            return true;
        return recursive.some(directory => path.startsWith(directory));
    };
}
function nonConeFilter(lines) {
    const patterns = [];
    for (const line of lines) {
        if (line.startsWith('#'))
            continue;
        const pattern = parsePattern(asLatin1(line));
        if (pattern === undefined)
            return () => true;
        patterns.push(pattern);
    }
    const decide = (path, directory) => {
        const name = path.slice(path.lastIndexOf('/') + 1);
        for (let i = patterns.length - 1; i >= 0; i--) {
            const pattern = patterns[i];
            if (pattern.directoryOnly && !directory)
                continue;
            if (pattern.regex.test(pattern.basename ? name : path))
                return !pattern.negative;
        }
        return undefined;
    };
    return path => {
        let decision = decide(path, false);
        for (let end = path.lastIndexOf('/'); decision === undefined && end > 0;) {
            decision = decide(path.slice(0, end), true);
            end = path.lastIndexOf('/', end - 1);
        }
        return decision ?? false;
    };
}
/** One gitignore pattern; undefined for syntax this module does not model (keep everything). */
function parsePattern(line) {
    let text = line;
    const negative = text.startsWith('!');
    if (negative)
        text = text.slice(1);
    const directoryOnly = text.endsWith('/');
    if (directoryOnly)
        text = text.slice(0, -1);
    const basename = !text.includes('/');
    if (text.startsWith('/'))
        text = text.slice(1);
    if (text === '')
        return undefined;
    const source = globToRegex(text);
    if (source === undefined)
        return undefined;
    return { negative, directoryOnly, basename, regex: new RegExp(`^${source}$`, 's') };
}
/**
 * wildmatch with WM_PATHNAME as a regular expression: `*` and `?` stay within a component,
 * `**` spans components when it is a whole component, `[...]` is a class. Escapes, POSIX
 * classes and unclosed brackets are left to git (undefined).
 */
function globToRegex(glob) {
    if (glob.includes('\\') || glob.includes('[:'))
        return undefined;
    let out = '';
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === '*') {
            if (glob[i + 1] === '*') {
                const atStart = i === 0 || glob[i - 1] === '/';
                const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
                if (atStart && atEnd) {
                    if (i + 2 === glob.length)
                        out += '.*';
                    else
                        out += '(?:.*/)?';
                    i += 2; // the '/' after, if any, is part of what (?:.*/)? matched
                    continue;
                }
                i++;
            }
            out += '[^/]*';
        }
        else if (c === '?') {
            out += '[^/]';
        }
        else if (c === '[') {
            const close = glob.indexOf(']', i + 2);
            if (close < 0)
                return undefined;
            let body = glob.slice(i + 1, close);
            const negated = body.startsWith('!') || body.startsWith('^');
            if (negated)
                body = body.slice(1);
            const escaped = body.replace(/[\]\\^]/g, m => `\\${m}`);
            out += negated ? `[^/${escaped}]` : `(?!/)[${escaped}]`;
            i = close;
        }
        else {
            out += c.replace(/[.*+?^${}()|[\]\\/]/g, m => `\\${m}`);
        }
    }
    return out;
}


/***/ }),

/***/ 632:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Nr: () => (/* binding */ orCancelled),
/* harmony export */   XE: () => (/* binding */ jobCancelled),
/* harmony export */   dJ: () => (/* binding */ cancelOnSignals)
/* harmony export */ });
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(916);
/**
 * The job's cancellation. When a job is cancelled the runner sends SIGINT to the action's
 * process, SIGTERM 7.5 s later if it still runs, and kills the process tree 2.5 s after
 * that. main.ts turns the first signal into an abort of this one signal, which every HTTP
 * request, the extraction and every git process observe (git by its process group), so
 * that the restore's ordinary failure path (staging discarded, temp files removed, the
 * target left as it was) runs well inside that window.
 */

const controller = new AbortController();
/** Aborted, with a CancelledError, once the job is cancelled. */
const jobCancelled = controller.signal;
/** Listens for the runner's signals until the returned function is called. */
function cancelOnSignals(onCancel) {
    const handle = (signal) => {
        if (controller.signal.aborted)
            return;
        onCancel(signal);
        controller.abort(new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .CancelledError */ .cc(signal));
    };
    process.on('SIGINT', handle);
    process.on('SIGTERM', handle);
    return () => {
        process.off('SIGINT', handle);
        process.off('SIGTERM', handle);
    };
}
/** The given signal, also aborted when the job is cancelled. */
function orCancelled(signal) {
    return signal === undefined ? jobCancelled : AbortSignal.any([signal, jobCancelled]);
}


/***/ }),

/***/ 638:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Q: () => (/* binding */ Spool)
});

// EXTERNAL MODULE: external "node:events"
var external_node_events_ = __webpack_require__(474);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(24);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(455);
// EXTERNAL MODULE: external "node:v8"
var external_node_v8_ = __webpack_require__(877);
// EXTERNAL MODULE: external "node:vm"
var external_node_vm_ = __webpack_require__(714);
;// CONCATENATED MODULE: ./src/memory.ts
/**
 * Keeps the restore's memory near its working set. A download streams hundreds of MiB
 * through short-lived Buffers: the network's chunks, which Node allocates (the spool reads
 * and the zstd decoder reuse their own buffers, so only the download's writes count). Their memory
 * lives outside V8's heap and is freed only when V8 collects their small wrappers, which it
 * does after ~64 MiB of such garbage has piled up; with the allocator's slack that put a
 * 256 MiB restore at ~165 MiB peak RSS. Collecting the young generation (a scavenge of
 * about a millisecond with this heap) every few MiB that pass through frees them promptly:
 * reading 256 MiB in 1 MiB blocks peaked at 123 MiB RSS without it and 62 to 69 MiB with it.
 * Still so with the in-process extractor: babel/babel's snapshot at 32 x 16 MiB peaked at 149
 * MB RSS with 32-35k minor faults with it, 186-190 MB with 49-66k faults without it.
 * Garbage collection is process-wide, so this is one counter for the process.
 */


const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;
let collect = null;
let sinceCollection = 0;
function exposeCollector() {
    try {
        external_node_v8_.setFlagsFromString('--expose-gc');
        const found = external_node_vm_.runInNewContext('gc');
        return typeof found === 'function' ? found : undefined;
    }
    catch {
        return undefined;
    }
}
/** Call with the size of every large Buffer the restore is done with (or about to drop). */
function noteTransientBytes(bytes) {
    sinceCollection += bytes;
    if (sinceCollection < COLLECT_EVERY_BYTES)
        return;
    sinceCollection = 0;
    if (collect === null)
        collect = exposeCollector();
    collect?.({ type: 'minor' });
}

// EXTERNAL MODULE: ./src/download/shared-frontier.ts
var shared_frontier = __webpack_require__(893);
;// CONCATENATED MODULE: ./src/download/spool.ts
/**
 * The download's temp file: written out of order by many requests, read in order by the
 * extractor. The frontier is the end of the contiguous prefix that has been written; a
 * reader never reads past it, so decoding overlaps the download without holding chunks
 * in memory.
 */





class Spool {
    file;
    handle;
    segments = [];
    head = 0; // first segment not yet complete
    events = new external_node_events_.EventEmitter();
    finalSize;
    failure;
    /** Made when another thread reads the spool: it then follows every change. */
    shared;
    frontier = 0;
    constructor(file, handle) {
        this.file = file;
        this.handle = handle;
        this.events.setMaxListeners(0);
    }
    static async create(file) {
        return new Spool(file, await promises_.open(file, 'wx+', 0o600));
    }
    /** A spool over a file that is already whole: reads go to its end. */
    static complete(file, handle, size) {
        const spool = new Spool(file, handle);
        spool.frontier = size;
        spool.finalSize = size;
        return spool;
    }
    /** Declares the byte ranges that will be written: [0, b1), [b1, b2), ..., in order. */
    setSegments(bounds) {
        for (const { start, end } of bounds)
            this.segments.push({ start, end, highWater: 0 });
    }
    /** Writes bytes at an absolute offset inside segment `index`. */
    async write(index, data, offset) {
        let done = 0;
        while (done < data.length) {
            const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
            done += bytesWritten;
        }
        noteTransientBytes(data.length);
        this.wrote(index, offset + data.length);
    }
    wrote(index, end) {
        const segment = this.segments[index];
        segment.highWater = Math.max(segment.highWater, end - segment.start);
        this.advance();
    }
    /**
     * write()'s synchronous twin, for a caller whose buffer is reused as soon as this returns
     * (a RangeLane): a page-cache write of one socket read, shorter than a thread-pool round trip.
     */
    writeSync(index, data, offset) {
        for (let done = 0; done < data.length;) {
            done += external_node_fs_.writeSync(this.handle.fd, data, done, data.length - done, offset + done);
        }
        this.wrote(index, offset + data.length);
    }
    /** The download is complete at this size (for streams whose size was unknown). */
    finish(size) {
        this.finalSize = size;
        this.changed();
    }
    /** Wakes the reader with the download's error. */
    fail(error) {
        this.failure ??= error;
        this.changed();
    }
    /** The open file's descriptor, for a reader in another thread of this process. */
    get fd() {
        return this.handle.fd;
    }
    /**
     * The spool's progress for a reader in another thread (SharedFrontier over the buffer),
     * which reads the file through fd. It learns that the download failed, not why: the error
     * stays here, with whoever awaits the download.
     */
    shareFrontier() {
        this.shared ??= shared_frontier/* SharedFrontier */.H.create();
        this.publish();
        return this.shared.buffer;
    }
    publish() {
        this.shared?.publish({
            frontier: this.frontier,
            finalSize: this.finalSize,
            failed: this.failure !== undefined
        });
    }
    changed() {
        this.publish();
        this.events.emit('change');
    }
    advance() {
        while (this.head < this.segments.length) {
            const segment = this.segments[this.head];
            this.frontier = segment.start + segment.highWater;
            if (segment.start + segment.highWater < segment.end)
                break;
            this.head++;
        }
        this.changed();
    }
    /** Resolves once the frontier passes `position`, the download ends, or it fails. */
    waitBeyond(position, signal) {
        if (this.frontier > position || this.finalSize !== undefined || this.failure)
            return Promise.resolve();
        return new Promise((resolve, reject) => {
            const onChange = () => {
                if (this.frontier > position || this.finalSize !== undefined || this.failure)
                    done(resolve);
            };
            const onAbort = () => done(() => reject(signal?.reason));
            const done = (settle) => {
                this.events.off('change', onChange);
                signal?.removeEventListener('abort', onAbort);
                settle();
            };
            this.events.on('change', onChange);
            signal?.addEventListener('abort', onAbort, { once: true });
        });
    }
    /**
     * Reads up to `length` bytes at `position` into `buffer` at `offset`, waiting until the
     * frontier has passed `position`; resolves 0 at the end of the download. Rejects with the
     * download's error, or with `signal`'s reason once it aborts. Serves as a ZstdSource.
     */
    async read(buffer, offset, length, position, signal) {
        for (;;) {
            signal?.throwIfAborted();
            await this.waitBeyond(position, signal);
            if (this.failure)
                throw this.failure;
            const available = this.frontier - position;
            if (available > 0) {
                const { bytesRead } = await this.handle.read(buffer, offset, Math.min(length, available), position);
                return bytesRead;
            }
            if (this.finalSize === undefined)
                continue;
            if (position >= this.finalSize)
                return 0;
            throw new Error(`internal: spool ended at ${this.frontier} of ${this.finalSize} bytes`);
        }
    }
    async close() {
        await this.handle.close().catch(() => undefined);
    }
}


/***/ }),

/***/ 472:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   C: () => (/* binding */ formatRate),
/* harmony export */   z: () => (/* binding */ formatBytes)
/* harmony export */ });
function formatBytes(bytes) {
    if (bytes < 1024 * 1024)
        return `${(bytes / 1024).toFixed(1)} KiB`;
    if (bytes < 1024 ** 3)
        return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
    return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
/** MB/s (decimal megabytes, as network speeds are quoted). */
function formatRate(bytes, seconds) {
    return seconds > 0 ? `${(bytes / 1e6 / seconds).toFixed(1)} MB/s` : 'n/a';
}


/***/ })

};
