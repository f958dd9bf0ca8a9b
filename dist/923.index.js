export const id = 923;
export const ids = [923];
export const modules = {

/***/ 923:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  run: () => (/* binding */ run)
});

// UNUSED EXPORTS: Outputs

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(598);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(24);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(161);
;// CONCATENATED MODULE: ./src/report/runner.ts
/**
 * The runner's side of a step, as the Actions runner defines it: inputs from INPUT_*
 * variables, outputs and state appended to the files GITHUB_OUTPUT and GITHUB_STATE name,
 * the job summary appended to GITHUB_STEP_SUMMARY, and log commands (`::warning::`, groups,
 * masks) on stdout.
 *
 * Why not @actions/core: it imports @actions/http-client for OIDC tokens, and that loads
 * undici at start-up. Measured on two ncc bundles, one that only calls core.info and one
 * that only writes to stdout: 0.08 s against 0.03 s of wall time, 66 MB against 43 MB of
 * RSS, 6,300 against 2,800 minor faults, on every job, for code the action never runs.
 * These few commands are the whole surface the action uses.
 */



/** An input as the runner passes it: INPUT_<NAME> (spaces as '_', hyphens kept), trimmed. */
function getInput(name) {
    return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}
/** Sets a step output (read by later steps as steps.<id>.outputs.<name>). */
function setOutput(name, value) {
    if (!appendKeyValue('GITHUB_OUTPUT', name, value)) {
        // A runner too old for output files (or a local run) reads the deprecated command.
        process.stdout.write(`${external_node_os_.EOL}::set-output name=${escapeProperty(name)}::${escapeData(value)}${external_node_os_.EOL}`);
    }
}
/** Saves a value for this action's post step (read back there with getState). */
function saveState(name, value) {
    if (!appendKeyValue('GITHUB_STATE', name, value)) {
        process.stdout.write(`::save-state name=${escapeProperty(name)}::${escapeData(value)}${external_node_os_.EOL}`);
    }
}
/** A value the main step saved; the runner passes it to the post step as STATE_<name>. */
function getState(name) {
    return process.env[`STATE_${name}`] ?? '';
}
/** Masks a secret in every later log line of the job. */
function setSecret(secret) {
    issue('add-mask', secret);
}
function info(message) {
    process.stdout.write(message + external_node_os_.EOL);
}
function debug(message) {
    issue('debug', message);
}
function warning(message) {
    issue('warning', message);
}
function notice(message) {
    issue('notice', message);
}
function error(message) {
    issue('error', message);
}
/** Fails the step: an error annotation and a non-zero exit code (without ending the process). */
function setFailed(message) {
    process.exitCode = 1;
    error(message);
}
/** Runs fn inside a collapsible group of log lines. */
async function group(name, fn) {
    issue('group', name);
    try {
        return await fn();
    }
    finally {
        issue('endgroup', '');
    }
}
/** Appends HTML to the job summary; false when the runner gives no summary file. */
function appendSummary(html) {
    const file = process.env.GITHUB_STEP_SUMMARY;
    if (!file)
        return false;
    external_node_fs_.appendFileSync(file, html + external_node_os_.EOL, 'utf8');
    return true;
}
/**
 * `name<<DELIMITER`, the value, `DELIMITER`: the multi-line form the runner parses, with a
 * random delimiter that neither the name nor the value may contain.
 */
function appendKeyValue(variable, name, value) {
    const file = process.env[variable];
    if (!file)
        return false;
    const delimiter = `ghadelimiter_${(0,external_node_crypto_.randomUUID)()}`;
    if (name.includes(delimiter) || value.includes(delimiter)) {
        throw new Error(`${variable}: '${name}' contains the delimiter`);
    }
    external_node_fs_.appendFileSync(file, `${name}<<${delimiter}${external_node_os_.EOL}${value}${external_node_os_.EOL}${delimiter}${external_node_os_.EOL}`, 'utf8');
    return true;
}
function issue(command, message) {
    process.stdout.write(`::${command}::${escapeData(message)}${external_node_os_.EOL}`);
}
/** Command data: '%', CR and LF would end or forge the command. */
function escapeData(text) {
    return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
/** Command properties also must not contain ':' or ','. */
function escapeProperty(text) {
    return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

// EXTERNAL MODULE: ./src/cancellation.ts
var cancellation = __webpack_require__(632);
;// CONCATENATED MODULE: ./src/checkout-inputs.ts
/**
 * actions/checkout's inputs that a snapshot makes moot, in the terms the log uses for them.
 * They are declared in action.yml so that a workflow moving from checkout keeps its `with:` block and gets no "Unexpected input" warning;
 * settings.ts reads and validates them as checkout would take them, and main.ts says once
 * what the snapshot gives instead.
 */
/**
 * The one line for every superseded input the workflow set. An info line, not a notice: the
 * job gets all that these inputs asked for and more, so nothing needs anyone's attention; an
 * annotation on every run (one per job of a matrix) would be noise that only editing the
 * workflow silences.
 */
function describeSuperseded(inputs) {
    if (inputs.length === 0)
        return undefined;
    const list = inputs.map(input => `${input.shown} (${input.instead})`).join(', ');
    return (`The snapshot is a full clone, so ${inputs.length === 1 ? 'this actions/checkout input changes' : 'these actions/checkout inputs change'} ` +
        `nothing: ${list}.`);
}
const SUPERSEDED = {
    fetchDepth: (depth) => ({
        shown: `fetch-depth: ${depth}`,
        instead: 'all history is there'
    }),
    fetchTags: { shown: 'fetch-tags: true', instead: 'every tag is there' },
    filter: (spec) => ({
        shown: `filter: ${spec}`,
        instead: 'every object is there, not a partial clone'
    })
};
/** The filter kinds git's --filter takes (git rev-list, "--filter=<filter-spec>"). */
const SIMPLE_FILTERS = [
    /^blob:none$/,
    /^blob:limit=\d+[kmg]?$/i,
    /^tree:\d+$/,
    /^object:type=(blob|tree|commit|tag)$/,
    /^sparse:oid=\S+$/
];
/**
 * Why `spec` is not a filter git's --filter accepts, or undefined when it is one. checkout
 * passes the input to git, whose fetch then fails the step; here it fails before any request.
 */
function filterSpecProblem(spec) {
    if (spec.startsWith('combine:')) {
        for (const part of spec.slice('combine:'.length).split('+')) {
            let decoded;
            try {
                decoded = decodeURIComponent(part);
            }
            catch {
                return `'${part}' is not percent-encoded correctly`;
            }
            const problem = filterSpecProblem(decoded);
            if (problem)
                return problem;
        }
        return undefined;
    }
    if (SIMPLE_FILTERS.some(pattern => pattern.test(spec)))
        return undefined;
    return (`'${spec}' is not a filter; use blob:none, blob:limit=<n>[kmg], tree:<depth>, ` +
        'object:type=<type>, sparse:oid=<blob> or combine:<filter>+<filter>');
}
/**
 * The ssh URL actions/checkout gives origin when `ssh-key` is set: USER@HOST:PATH.git, the host
 * without its port (scp-like syntax has none; ssh uses port 22 or the user's ssh config).
 */
function sshOriginUrl(repositoryUrl, user) {
    const url = new URL(repositoryUrl);
    const repoPath = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
    return `${user}@${url.hostname}:${repoPath}.git`;
}

// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(916);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(760);
;// CONCATENATED MODULE: ./src/cachew/credentials.ts
/**
 * The one rule for where cachew's Authorization header may go: only to the origin (scheme,
 * host and port) of server-url. The server's X-Cachew-Bundle-Url may be absolute and name any
 * host; a misconfigured or hostile server, or a proxy rewriting headers, must not be able to
 * collect the token that way. git's side of the same rule is the extraheader's URL scope
 * (gitCredentialScope), which git matches by scheme, host, port and path prefix: within the
 * same origin, never wider.
 */
/** The Authorization value to send with a request to url: the secret only for server-url's origin. */
function authorizationFor(serverUrl, authorization, url) {
    if (authorization === undefined)
        return undefined;
    return sameOrigin(serverUrl, url) ? authorization : undefined;
}
/** Whether url has server-url's scheme, host and port (default ports made explicit). */
function sameOrigin(serverUrl, url) {
    return new URL(url).origin === new URL(serverUrl).origin;
}
/** The URL git scopes the Authorization extraheader to: http.<this>.extraheader. */
function gitCredentialScope(serverUrl) {
    return `${serverUrl.replace(/\/+$/, '')}/`;
}

;// CONCATENATED MODULE: ./src/cachew/endpoints.ts
/**
 * Where things live on a cachew server. An upstream URL https://HOST/OWNER/REPO(.git)
 * maps to the prefix {server}/git/HOST/OWNER/REPO.
 */
function repositoryPrefix(serverUrl, upstreamUrl) {
    const upstream = new URL(upstreamUrl);
    const repoPath = upstream.pathname
        .replace(/^\/+/, '')
        .replace(/\/+$/, '')
        .replace(/\.git$/, '');
    if (!upstream.host || repoPath === '') {
        throw new Error(`not a repository URL: ${upstreamUrl}`);
    }
    return `${serverUrl.replace(/\/+$/, '')}/git/${upstream.host}/${repoPath}`;
}
function snapshotUrl(serverUrl, upstreamUrl) {
    return `${repositoryPrefix(serverUrl, upstreamUrl)}/snapshot.tar.zst`;
}
/** The delta bundle from `base` to the mirror's HEAD. */
function bundleUrl(serverUrl, upstreamUrl, base) {
    return `${repositoryPrefix(serverUrl, upstreamUrl)}/snapshot.bundle?base=${base}`;
}
/** cachew's LFS snapshot: the LFS objects its snapshot's HEAD references (404 when none). */
function lfsSnapshotUrl(serverUrl, upstreamUrl) {
    return `${repositoryPrefix(serverUrl, upstreamUrl)}/lfs-snapshot.tar.zst`;
}
function ensureRefsUrl(serverUrl, upstreamUrl) {
    return `${repositoryPrefix(serverUrl, upstreamUrl)}/ensure-refs`;
}
/** The URL prefix that git's insteadOf maps https://HOST/ onto. */
function gitInsteadOf(serverUrl, upstreamUrl) {
    const upstream = new URL(upstreamUrl);
    return {
        from: `${upstream.protocol}//${upstream.host}/`,
        to: `${serverUrl.replace(/\/+$/, '')}/git/${upstream.host}/`
    };
}
/**
 * X-Cachew-Bundle-Url is root-relative or absolute. A root-relative one is joined onto the
 * server URL as configured, so a cachew mounted under a path prefix keeps working.
 */
function resolveServerUrl(serverUrl, reference) {
    if (reference.startsWith('/'))
        return serverUrl.replace(/\/+$/, '') + reference;
    return new URL(reference).toString();
}

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(421);
;// CONCATENATED MODULE: ./src/git/git.ts
/**
 * A small runner for the git CLI. Output is captured, never echoed, so nothing it runs can
 * print a secret to the log. Configuration that may hold a secret goes to git through the
 * GIT_CONFIG_COUNT/KEY/VALUE environment, never through argv, where any process on the
 * machine could read it.
 */



/** A git command that failed; the message carries git's own explanation, secrets masked. */
class GitError extends errors/* ExpectedError */.Dh {
    command;
    exitCode;
    stderr;
    name = 'GitError';
    constructor(command, exitCode, stderr) {
        super(`git ${command} failed (exit ${exitCode})${stderr ? `: ${stderr}` : ''}`);
        this.command = command;
        this.exitCode = exitCode;
        this.stderr = stderr;
    }
}
/**
 * Variables that would point git at another repository, index or configuration than the one
 * we mean; a runner or a hook may have them set.
 */
const REPOSITORY_VARIABLES = [
    'GIT_DIR',
    'GIT_WORK_TREE',
    'GIT_INDEX_FILE',
    'GIT_OBJECT_DIRECTORY',
    'GIT_ALTERNATE_OBJECT_DIRECTORIES',
    'GIT_COMMON_DIR',
    'GIT_NAMESPACE',
    'GIT_PREFIX'
];
/** Replaces every occurrence of each secret with ***. */
function maskSecrets(text, secrets) {
    let masked = text;
    for (const secret of secrets) {
        if (secret)
            masked = masked.split(secret).join('***');
    }
    return masked;
}
/**
 * Builds the environment for one git process: ours plus `config` appended after any
 * GIT_CONFIG_COUNT entries already present, so a runner's own entries keep working.
 */
function gitEnvironment(base, config = []) {
    const env = {
        ...base,
        GIT_TERMINAL_PROMPT: '0',
        GCM_INTERACTIVE: 'never',
        // The snapshot holds LFS pointers (cachew clones without smudging); LFS content comes from
        // its own snapshot, not from a download per file in the middle of our checkout.
        GIT_LFS_SKIP_SMUDGE: '1'
    };
    for (const name of REPOSITORY_VARIABLES)
        delete env[name];
    // libcurl reads only the lower-case http_proxy (a guard for CGI programs, which this is not),
    // while the action's own requests honour HTTP_PROXY too: git must take the same route.
    if (!env.http_proxy && env.HTTP_PROXY)
        env.http_proxy = env.HTTP_PROXY;
    if (config.length === 0)
        return env;
    const existing = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10);
    const first = Number.isInteger(existing) && existing > 0 ? existing : 0;
    config.forEach((entry, i) => {
        env[`GIT_CONFIG_KEY_${first + i}`] = entry.key;
        env[`GIT_CONFIG_VALUE_${first + i}`] = entry.value;
    });
    env.GIT_CONFIG_COUNT = String(first + config.length);
    return env;
}
/** Runs git in one repository directory. */
class Git {
    directory;
    secrets;
    defaults;
    constructor(directory, 
    /** Values masked out of every error message this runner produces. */
    secrets = [], defaults = {}) {
        this.directory = directory;
        this.secrets = secrets;
        this.defaults = defaults;
    }
    /** The signal that aborts this runner's commands, if any. */
    get signal() {
        return this.defaults.signal;
    }
    /** Runs git; an exit code outside 0 and `okExitCodes` throws a GitError. */
    async run(args, options = {}) {
        const config = [...(this.defaults.config ?? []), ...(options.config ?? [])];
        const output = await spawnGit(this.directory, args, gitEnvironment(process.env, config), this.defaults.uncancellable ? this.defaults.signal : (0,cancellation/* orCancelled */.Nr)(this.defaults.signal), options.input);
        const ok = output.exitCode === 0 || (options.okExitCodes ?? []).includes(output.exitCode);
        if (!ok) {
            const stderr = maskSecrets(output.stderr.trim(), this.secrets);
            throw new GitError(maskSecrets(args.join(' '), this.secrets), output.exitCode, stderr);
        }
        return output;
    }
    /** Runs git and returns its stdout without the trailing newline. */
    async read(args, options = {}) {
        return (await this.run(args, options)).stdout.replace(/\n$/, '');
    }
    /** True when git exits 0, false when it exits 1 (a "no" answer); other codes throw. */
    async test(args) {
        return (await this.run(args, { okExitCodes: [1] })).exitCode === 0;
    }
}
function spawnGit(cwd, args, env, signal, input) {
    if (signal?.aborted)
        return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
        // An abortable git runs as a process group of its own, so an abort ends its helpers
        // too (a fetch's remote helper and index-pack); killing git alone can leave them running.
        const group = signal !== undefined && process.platform !== 'win32';
        const child = (0,external_node_child_process_.spawn)('git', args, {
            cwd,
            env,
            // stdin is a pipe closed after `input` (at once without it): git reads end-of-file.
            stdio: ['pipe', 'pipe', 'pipe'],
            detached: group,
            signal: group ? undefined : signal
        });
        const killGroup = () => {
            try {
                if (child.pid !== undefined)
                    process.kill(-child.pid, 'SIGTERM');
            }
            catch {
                // The group has already gone.
            }
        };
        if (group)
            signal.addEventListener('abort', killGroup, { once: true });
        // A git that exits before reading it all fails with its own message; EPIPE adds nothing.
        child.stdin.on('error', () => undefined);
        child.stdin.end(input);
        const stdout = [];
        const stderr = [];
        child.stdout.on('data', (chunk) => stdout.push(chunk));
        child.stderr.on('data', (chunk) => stderr.push(chunk));
        child.on('error', error => {
            // After an abort, 'close' follows once every process holding git's output has gone.
            if (signal?.aborted)
                return;
            reject(new errors/* ExpectedError */.Dh(`Could not run git (is it installed and on PATH?): ${error.message}`));
        });
        child.on('close', code => {
            signal?.removeEventListener('abort', killGroup);
            if (signal?.aborted) {
                reject(signal.reason);
                return;
            }
            resolve({
                exitCode: code ?? -1,
                stdout: Buffer.concat(stdout).toString('utf8'),
                stderr: Buffer.concat(stderr).toString('utf8')
            });
        });
    });
}

;// CONCATENATED MODULE: ./src/git/access.ts
/**
 * How git reaches cachew and the upstream host: the cachew Authorization header, the upstream
 * token (as actions/checkout sends it), and the insteadOf rule that routes upstream fetches
 * through cachew. The same entries serve two purposes: passed through the environment to the
 * fetches of the restore itself (and, through the environment, to every nested git of a
 * submodule update), and written to a private file that the repository's .git/config and its
 * submodules' configs include, so the workflow's later steps can fetch and push. Secrets never go
 * into .git/config itself, and the post step deletes the file. With ssh-key, later steps'
 * origin is the ssh URL (setOrigin) and the file also carries core.sshCommand, naming a key
 * and a known_hosts file kept beside it; the restore itself never uses ssh.
 */






/** The Authorization header git sends upstream for a token, as actions/checkout does. */
function tokenHeader(token) {
    return `AUTHORIZATION: basic ${basicCredential(token)}`;
}
function basicCredential(token) {
    return Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
}
/** Every secret the entries below can contain, in the forms a log could show. */
function accessSecrets(settings) {
    const secrets = [];
    if (settings.authorization)
        secrets.push(settings.authorization);
    if (settings.token)
        secrets.push(settings.token, basicCredential(settings.token));
    return secrets;
}
/**
 * The git configuration for reaching cachew and upstream. With git-through-cachew, fetches
 * of https://HOST/ go to cachew, while pushes still go straight upstream: cachew serves
 * upload-pack only, and an identity pushInsteadOf keeps insteadOf off push URLs.
 */
function accessConfig(settings) {
    const route = gitInsteadOf(settings.serverUrl, settings.repositoryUrl);
    const upstream = route.from;
    const server = gitCredentialScope(settings.serverUrl);
    const entries = [];
    // readSettings refused values with a line break, which would inject further headers.
    if (settings.authorization) {
        entries.push({
            key: `http.${server}.extraheader`,
            value: `Authorization: ${settings.authorization}`
        });
    }
    if (settings.token) {
        entries.push({ key: `http.${upstream}.extraheader`, value: tokenHeader(settings.token) });
    }
    if (settings.gitThroughCachew) {
        entries.push({ key: `url.${route.to}.insteadOf`, value: upstream });
        entries.push({ key: `url.${upstream}.pushInsteadOf`, value: upstream });
    }
    return entries;
}
/** Renders entries in git's config file syntax, quoting every value. */
function renderConfigFile(entries) {
    const lines = [];
    for (const entry of entries) {
        const { section, subsection, name } = splitKey(entry.key);
        const header = subsection === undefined ? `[${section}]` : `[${section} "${escapeSubsection(subsection)}"]`;
        lines.push(header, `\t${name} = "${escapeValue(entry.value)}"`);
    }
    return lines.join('\n') + '\n';
}
/** git's rule: the section is before the first dot, the name after the last one. */
function splitKey(key) {
    const first = key.indexOf('.');
    const last = key.lastIndexOf('.');
    if (first <= 0 || last === key.length - 1)
        throw new Error(`invalid git config key: ${key}`);
    if (first === last)
        return { section: key.slice(0, first), name: key.slice(last + 1) };
    return {
        section: key.slice(0, first),
        subsection: key.slice(first + 1, last),
        name: key.slice(last + 1)
    };
}
function escapeSubsection(text) {
    return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
function escapeValue(text) {
    return text
        .replace(/\\/g, '\\\\')
        .replace(/"/g, '\\"')
        .replace(/\n/g, '\\n')
        .replace(/\t/g, '\\t');
}
function repositoryConfigFile(directory) {
    return external_node_path_.join(directory, '.git', 'config');
}
/**
 * The repository's .git/config and those of its submodules' git dirs, nested ones included
 * (.git/modules/NAME, .git/modules/NAME/modules/NESTED; a NAME may hold slashes), so later
 * steps reach a submodule's upstream as they reach the superproject's, as actions/checkout
 * configures each submodule with persist-credentials.
 */
async function repositoryConfigFiles(directory) {
    const files = [repositoryConfigFile(directory)];
    const walk = async (modules) => {
        for (const entry of await directoriesIn(modules)) {
            const candidate = external_node_path_.join(modules, entry);
            if (await isFile(external_node_path_.join(candidate, 'HEAD'))) {
                if (await isFile(external_node_path_.join(candidate, 'config')))
                    files.push(external_node_path_.join(candidate, 'config'));
                await walk(external_node_path_.join(candidate, 'modules'));
            }
            else {
                await walk(candidate);
            }
        }
    };
    await walk(external_node_path_.join(directory, '.git', 'modules'));
    return files;
}
async function directoriesIn(directory) {
    try {
        const entries = await promises_.readdir(directory, { withFileTypes: true });
        return entries.filter(entry => entry.isDirectory()).map(entry => entry.name);
    }
    catch {
        return [];
    }
}
/**
 * Writes the access configuration to a new private file under tempDir and includes it from
 * the repository's .git/config by absolute path, so moving the repository keeps it working.
 * With ssh-key, the key and the known hosts go beside it (sshFilesOf), and the file sets
 * core.sshCommand to use them. The lead saves `configFile` for the post step, which passes it
 * to removeGitAccess.
 */
async function configureGitAccess(directory, settings) {
    const configFile = external_node_path_.join(external_node_path_.resolve(settings.tempDir), `cachew-git-${(0,external_node_crypto_.randomUUID)()}.config`);
    try {
        const entries = accessConfig(settings);
        if (settings.ssh)
            entries.push(...(await writeSshFiles(configFile, settings.ssh, settings)));
        await promises_.writeFile(configFile, renderConfigFile(entries), { mode: 0o600, flag: 'wx' });
        for (const config of await repositoryConfigFiles(directory)) {
            await new Git(directory).run([
                'config',
                '--file',
                config,
                '--add',
                'include.path',
                configFile
            ]);
        }
    }
    catch (error) {
        await removeAccessFiles(configFile);
        throw error;
    }
    return { configFile };
}
/**
 * Points origin where later steps should find it: the ssh URL with ssh-key, as actions/checkout
 * leaves it, else the https one. The snapshot's clone has the https upstream; a checkout an
 * earlier job left (updated in place) may have either. An https origin spelled otherwise is
 * left as it is.
 */
async function setOrigin(directory, settings) {
    const git = new Git(directory);
    const read = await git.run(['config', '--get', 'remote.origin.url'], { okExitCodes: [1] });
    const current = read.stdout.trim();
    const wanted = settings.ssh?.originUrl;
    if (wanted ? current === wanted : /^https?:\/\//i.test(current))
        return;
    await git.run(['config', 'remote.origin.url', wanted ?? settings.repositoryUrl]);
}
/** The ssh key and known hosts kept for later steps, named after the access file. */
function sshFilesOf(configFile) {
    const stem = configFile.replace(/\.config$/, '');
    return { key: `${stem}.ssh-key`, knownHosts: `${stem}.known_hosts` };
}
/** The access file and the ssh files beside it, whichever exist. */
async function removeAccessFiles(configFile) {
    const ssh = sshFilesOf(configFile);
    await Promise.all([configFile, ssh.key, ssh.knownHosts].map(file => promises_.rm(file, { force: true })));
}
/**
 * github.com's SSH host keys as GitHub publishes them for known_hosts ("GitHub's SSH key
 * fingerprints"), always trusted, as actions/checkout trusts github.com implicitly. A test
 * checks them against the published SHA256 fingerprints.
 */
const GITHUB_HOST_KEYS = [
    'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
    'github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=',
    'github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk='
];
/**
 * Writes the key (0600, as ssh requires) and the known hosts, and returns the configuration
 * for later steps: core.sshCommand, as actions/checkout sets it, so `git push` to the ssh
 * origin uses the key; and, with git-through-cachew, fetches from the ssh URL go to cachew as
 * https ones do, while pushes stay on ssh (the identity pushInsteadOf keeps insteadOf off
 * them).
 */
async function writeSshFiles(configFile, ssh, settings) {
    const files = sshFilesOf(configFile);
    await promises_.writeFile(files.key, ssh.key.trim() + '\n', { mode: 0o600, flag: 'wx' });
    const knownHosts = [ssh.knownHosts.trim(), ...GITHUB_HOST_KEYS].filter(text => text !== '');
    await promises_.writeFile(files.knownHosts, knownHosts.join('\n') + '\n', { mode: 0o600, flag: 'wx' });
    const entries = [{ key: 'core.sshCommand', value: sshCommand(files, ssh.strict) }];
    if (settings.gitThroughCachew) {
        const route = gitInsteadOf(settings.serverUrl, settings.repositoryUrl);
        const sshPrefix = ssh.originUrl.slice(0, ssh.originUrl.indexOf(':') + 1);
        entries.push({ key: `url.${route.to}.insteadOf`, value: sshPrefix });
        entries.push({ key: `url.${sshPrefix}.pushInsteadOf`, value: sshPrefix });
    }
    return entries;
}
/**
 * The command git runs (through the shell) for ssh. `ssh` is looked up on PATH when a later
 * step runs it, so a job that installs ssh after this step works too. The user's own
 * ~/.ssh/known_hosts stays in use beside ours: UserKnownHostsFile takes a list, and replaces
 * the default one.
 */
function sshCommand(files, strict) {
    // Within the option, ssh splits on whitespace and honours double quotes and backslashes.
    const knownHosts = `"${files.knownHosts.replace(/[\\"]/g, '\\$&')}"`;
    const args = ['ssh', '-i', shellQuote(files.key)];
    args.push('-o', shellQuote(`UserKnownHostsFile=${knownHosts} ~/.ssh/known_hosts`));
    if (strict)
        args.push('-o', 'StrictHostKeyChecking=yes', '-o', 'CheckHostIP=no');
    return args.join(' ');
}
function shellQuote(text) {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}
/**
 * Deletes the access file (and the ssh files beside it) and its include.path line. Tolerates
 * a repository that later steps removed: the files under tempDir hold the secrets and go
 * regardless.
 */
async function removeGitAccess(directory, configFile) {
    if (!configFile)
        return;
    await removeAccessFiles(configFile);
    if (!(await isFile(repositoryConfigFile(directory))))
        return;
    for (const config of await repositoryConfigFiles(directory)) {
        // Exit 5: the line was already gone.
        await new Git(directory).run(['config', '--file', config, '--fixed-value', '--unset-all', 'include.path', configFile], { okExitCodes: [5] });
    }
}
async function isFile(file) {
    try {
        return (await promises_.stat(file)).isFile();
    }
    catch {
        return false;
    }
}

;// CONCATENATED MODULE: ./src/git/safe-directory.ts
/**
 * `set-safe-directory`: the restored repository in git's global `safe.directory` list, so that
 * git accepts it when another user owns the files. A job with `container:` runs as another
 * user than the runner that made the workspace, and git (2.35.2 and later) then refuses the
 * repository with "detected dubious ownership", root included. git reads `safe.directory`
 * only from protected configuration (system, global, command line), never from the
 * repository's own, so the entry goes into the global file (~/.gitconfig, or wherever
 * GIT_CONFIG_GLOBAL or XDG point git), where this step's git and every later step's git find it.
 *
 * actions/checkout adds the same entry, but to a temporary global configuration (a copy of
 * ~/.gitconfig under RUNNER_TEMP, with HOME pointed at it for its own git processes only),
 * deleted when its step ends; its post step does the same again for its own cleanup. So its
 * entry never reaches later steps. Here the entry stays for the job and the post step removes
 * it; an entry the user had already is left alone, and is not removed either.
 */




const KEY = 'safe.directory';
/** Global configuration needs no repository: git runs where no repository can be found. */
function globalGit() {
    return new Git(external_node_os_.tmpdir());
}
/**
 * The path as git compares it: git matches the repository's physical path (no symlinks, as
 * getcwd gives it), so symlinks in the part that exists are resolved; the rest may not exist
 * yet, before the restore.
 */
async function physicalPath(directory) {
    const absolute = external_node_path_.resolve(directory);
    const missing = [];
    for (let at = absolute;; at = external_node_path_.dirname(at)) {
        try {
            return external_node_path_.join(await promises_.realpath(at), ...missing.reverse());
        }
        catch (error) {
            if (error.code !== 'ENOENT' || at === external_node_path_.dirname(at)) {
                throw error;
            }
            missing.push(external_node_path_.basename(at));
        }
    }
}
/** The global safe.directory values, in order. */
async function globalSafeDirectories() {
    // Exit 1: none set.
    const result = await globalGit().run(['config', '--global', '--get-all', KEY], {
        okExitCodes: [1]
    });
    return result.stdout.split('\n').filter(line => line !== '');
}
/**
 * Adds `directory` to the global safe.directory list. Returns the value added, for the post
 * step to remove; undefined when the list already had it (the user's entry, left alone).
 */
async function addSafeDirectory(directory) {
    const value = await physicalPath(directory);
    if ((await globalSafeDirectories()).includes(value))
        return undefined;
    await globalGit().run(['config', '--global', '--add', KEY, value]);
    return value;
}
/** Removes the value addSafeDirectory added; nothing when it is already gone. */
async function removeSafeDirectory(value) {
    // Exit 5: no such value (a later step removed it, or HOME changed).
    await globalGit().run(['config', '--global', '--fixed-value', '--unset-all', KEY, value], {
        okExitCodes: [5]
    });
}

// EXTERNAL MODULE: ./src/report/log.ts
var report_log = __webpack_require__(472);
;// CONCATENATED MODULE: ./src/report/summary.ts
/** The job summary: what was restored, how big, how long each phase took, how fast. */


function escapeHtml(text) {
    return text
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;');
}
/** The commit, linked to its page on the repository's web host (the summary is HTML). */
function commitLink(repositoryUrl, commit) {
    if (!commit)
        return 'not given';
    const href = escapeHtml(`${repositoryUrl}/commit/${commit}`);
    return `<a href="${href}"><code>${escapeHtml(commit.slice(0, 12))}</code></a>`;
}
function writeSummary(result) {
    const checkedOut = [
        'Checked out',
        `${commitLink(result.repositoryUrl, result.commit)} (${escapeHtml(result.ref)})`
    ];
    const rows = result.mode === 'in-place' ? inPlaceRows(result, checkedOut) : snapshotRows(result, checkedOut);
    const phases = [
        ...result.phases.map(p => [p.name, p.seconds.toFixed(2)]),
        ['Total', result.seconds.toFixed(2)]
    ];
    appendSummary([
        '<h3>cachew-restore</h3>',
        table(['What', 'Value'], rows),
        table(['Phase', 'Seconds'], phases)
    ].join('\n'));
}
/** An HTML table; cells are HTML already (escaped where they carry text). */
function table(headings, rows) {
    const row = (cells, tag) => `<tr>${cells.map(cell => `<${tag}>${cell}</${tag}>`).join('')}</tr>`;
    return `<table>${row(headings, 'th')}${rows.map(cells => row(cells, 'td')).join('')}</table>`;
}
function inPlaceRows(result, checkedOut) {
    return [
        ['Repository', escapeHtml(result.repositoryUrl)],
        ['Mode', 'in-place: the existing checkout was updated, no snapshot downloaded'],
        checkedOut,
        ['Fetched through cachew', (0,report_log/* formatBytes */.z)(result.download.bytes)],
        ['Peak memory (RSS)', (0,report_log/* formatBytes */.z)(process.resourceUsage().maxRSS * 1024)]
    ];
}
function snapshotRows(result, checkedOut) {
    const { download } = result;
    return [
        ['Repository', escapeHtml(result.repositoryUrl)],
        ['Mode', 'snapshot'],
        ['Snapshot commit', commitLink(result.repositoryUrl, result.snapshotCommit)],
        checkedOut,
        ['Delta bundle', result.bundleApplied ? 'applied' : 'not applied'],
        ['Snapshot size', result.size === undefined ? 'unknown' : (0,report_log/* formatBytes */.z)(result.size)],
        [
            'Snapshot source',
            result.source === 'runner-cache'
                ? 'kept on this runner, still current (not downloaded)'
                : 'downloaded from cachew'
        ],
        [
            'Downloaded',
            `${(0,report_log/* formatBytes */.z)(download.bytes)} in ${download.requests} request(s), ${download.mode}`
        ],
        ['Throughput', (0,report_log/* formatRate */.C)(download.bytes, result.snapshotSeconds)],
        ['Most requests in flight', String(download.maxInFlight)],
        ['Retries', String(download.retries)],
        ['Restarts (snapshot changed)', String(result.restarts)],
        ['Entries extracted', String(result.entries)],
        // The action's own process, which extracts the tree itself.
        ['Peak memory (RSS)', (0,report_log/* formatBytes */.z)(process.resourceUsage().maxRSS * 1024)]
    ];
}

// EXTERNAL MODULE: ./src/archive/materialize.ts + 5 modules
var materialize = __webpack_require__(426);
;// CONCATENATED MODULE: ./src/archive/lfs-snapshot.ts
/**
 * cachew's LFS snapshot into a staged clone: the archive holds `./lfs/objects/XX/YY/OID`
 * relative to `.git`. It is extracted by the same path as the snapshot (materialize, through
 * the tar gate) into an empty directory inside `.git`, each object's content is checked
 * against its name, and only then do the objects move into `.git/lfs/objects`. Anything else
 * in the archive stays behind and goes with the temp directory.
 */





/** A damaged LFS object: the restore fails, naming it. */
class LfsObjectError extends errors/* ArchiveError */.di {
    name = 'LfsObjectError';
}
const OID = /^[0-9a-f]{64}$/;
/**
 * Extracts the LFS snapshot into `.git/.cachew-lfs-<pid>-<random>` of the staged clone at
 * `directory`, verifies every object and moves them into `.git/lfs/objects`. The temp
 * directory is removed on every way out; on a failure nothing has moved.
 */
async function installLfsSnapshot(bytes, directory, options) {
    const gitDir = external_node_path_.join(directory, '.git');
    const scratch = external_node_path_.join(gitDir, `.cachew-lfs-${process.pid}-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`);
    await promises_.mkdir(scratch);
    try {
        await (0,materialize/* materialize */.O)(bytes, scratch, options);
        const objects = await verifiedObjects(external_node_path_.join(scratch, 'lfs', 'objects'));
        return await moveObjects(objects, gitDir);
    }
    finally {
        await promises_.rm(scratch, { recursive: true, force: true });
    }
}
/**
 * Walks lfs/objects/XX/YY/OID and checks each file's SHA-256 against its OID. A file that is
 * not at the place its OID names, or whose content hashes to something else, is refused: the
 * working tree would otherwise get wrong content that `git status` does not notice (the clean
 * filter would hash it to another pointer only when the file's stat data changes).
 */
async function verifiedObjects(root) {
    const objects = [];
    let levels;
    try {
        levels = await promises_.readdir(root);
    }
    catch (error) {
        // An archive with no objects directory carries no objects: nothing to install.
        if (error.code === 'ENOENT')
            return objects;
        throw error;
    }
    // One buffer for every read: hashing must not allocate per chunk (first touches are dear).
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (const first of levels.sort()) {
        for (const second of await childrenOf(external_node_path_.join(root, first), `lfs/objects/${first}`)) {
            const dir = external_node_path_.join(root, first, second);
            for (const name of await childrenOf(dir, `lfs/objects/${first}/${second}`)) {
                const relative = `${first}/${second}/${name}`;
                const file = external_node_path_.join(dir, name);
                const where = `lfs/objects/${relative}`;
                if (!OID.test(name) || name.slice(0, 2) !== first || name.slice(2, 4) !== second) {
                    throw new LfsObjectError(`The LFS snapshot holds '${where}', which is not an object's place (lfs/objects/XX/YY/OID, the OID's first two byte pairs as directories); refusing it.`);
                }
                const stat = await promises_.lstat(file);
                if (!stat.isFile()) {
                    throw new LfsObjectError(`The LFS snapshot's '${where}' is not a regular file.`);
                }
                const actual = await sha256Of(file, buffer);
                if (actual !== name) {
                    throw new LfsObjectError(`The LFS snapshot's object ${name} is damaged: its content hashes to ${actual} (${where}); nothing was restored.`);
                }
                objects.push({ relative, file, size: stat.size });
            }
        }
    }
    return objects;
}
/** The names in a directory of the object tree, refusing a file where a directory belongs. */
async function childrenOf(dir, shown) {
    const stat = await promises_.lstat(dir);
    if (!stat.isDirectory()) {
        throw new LfsObjectError(`The LFS snapshot holds '${shown}', which is not an object's place (lfs/objects/XX/YY/OID); refusing it.`);
    }
    return (await promises_.readdir(dir)).sort();
}
async function sha256Of(file, buffer) {
    const hash = (0,external_node_crypto_.createHash)('sha256');
    const handle = await promises_.open(file, 'r');
    try {
        for (;;) {
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
            if (bytesRead === 0)
                break;
            hash.update(buffer.subarray(0, bytesRead));
        }
    }
    finally {
        await handle.close();
    }
    return hash.digest('hex');
}
/**
 * Renames each object into .git/lfs/objects; one already there (the snapshot's own) is kept.
 * The snapshot made .git, and a symlink there (`.git/lfs -> ../..`, which the gate lets through
 * as long as it points inside the tree) must not carry objects anywhere but into .git: each
 * directory an object lands in must resolve inside it.
 */
async function moveObjects(objects, gitDir) {
    const target = external_node_path_.join(gitDir, 'lfs', 'objects');
    const realGitDir = await promises_.realpath(gitDir);
    let moved = 0;
    let bytes = 0;
    const made = new Set();
    for (const object of objects) {
        const destination = external_node_path_.join(target, object.relative);
        const parent = external_node_path_.dirname(destination);
        if (!made.has(parent)) {
            await promises_.mkdir(parent, { recursive: true });
            const real = await promises_.realpath(parent);
            if (real !== realGitDir && !real.startsWith(realGitDir + external_node_path_.sep)) {
                throw new LfsObjectError(`The snapshot's .git/lfs/objects/${external_node_path_.dirname(object.relative)} leads out of .git (to ${real}); refusing to put LFS objects there.`);
            }
            made.add(parent);
        }
        if (await exists(destination))
            continue;
        await promises_.rename(object.file, destination);
        moved++;
        bytes += object.size;
    }
    return { objects: moved, bytes };
}
async function exists(file) {
    try {
        await promises_.lstat(file);
        return true;
    }
    catch {
        return false;
    }
}

// EXTERNAL MODULE: ./src/archive/materialize-worker.ts + 1 modules
var materialize_worker = __webpack_require__(746);
;// CONCATENATED MODULE: ./src/archive/leftovers.ts
/**
 * Work directories a restore makes beside its target and in RUNNER_TEMP carry the pid of the
 * process that made them: `<prefix><pid>-<id>`. A restore that ends, fails or is cancelled
 * removes its own; one that was SIGKILLed cannot, so the next restore in the same place
 * removes those whose process is gone. On a self-hosted runner they would otherwise pile up,
 * hundreds of MB per killed job.
 *
 * A backup (the target's previous content during the swap) is removed only once the swap it
 * belongs to is certainly complete: its staging directory, which shares its id, is gone or
 * empty (every staged child moved in). A backup beside a staging directory that still holds
 * children means the swap was interrupted; both are kept, named in a warning, since the
 * backup may be the only copy of the previous content.
 */


const STAGING_PREFIX = '.cachew-restore-';
const BACKUP_PREFIX = '.cachew-backup-';
const SPOOL_PREFIX = 'cachew-restore-';
const SPOOL_BESIDE_PREFIX = '.cachew-download-';
/** Creates `<parent>/<prefix><pid>-XXXXXX` (mkdtemp: exclusive, 0700). */
function makeWorkDirectory(parent, prefix) {
    return promises_.mkdtemp(external_node_path_.join(parent, `${prefix}${process.pid}-`));
}
/** The `<pid>-<id>` part of a work directory's name, or undefined for any other name. */
function parseName(name, prefix) {
    if (!name.startsWith(prefix))
        return undefined;
    const match = /^(\d+)-([A-Za-z0-9]+)$/.exec(name.slice(prefix.length));
    return match ? { pid: Number(match[1]), id: `${match[1]}-${match[2]}` } : undefined;
}
/** Whether a process with this pid exists (EPERM: it does, under another user). */
function processAlive(pid) {
    if (pid === process.pid)
        return true;
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (error) {
        return error.code === 'EPERM';
    }
}
/**
 * Removes the work directories under `parent` (of the given prefixes) that a process no longer
 * running left behind. Never throws: a leftover that cannot be removed is only reported.
 */
async function sweepLeftovers(parent, prefixes, alive = processAlive) {
    const report = { removed: [], kept: [] };
    const names = await promises_.readdir(parent).catch(() => []);
    const dead = (prefix) => names.flatMap(name => {
        const parsed = parseName(name, prefix);
        return parsed && !alive(parsed.pid) ? [{ name, id: parsed.id }] : [];
    });
    const remove = async (name) => {
        const full = external_node_path_.join(parent, name);
        try {
            await promises_.rm(full, { recursive: true, force: true });
            report.removed.push(full);
        }
        catch {
            report.kept.push(full);
        }
    };
    const backups = prefixes.includes(BACKUP_PREFIX) ? dead(BACKUP_PREFIX) : [];
    const interrupted = new Set();
    for (const backup of backups) {
        const staging = external_node_path_.join(parent, `${STAGING_PREFIX}${backup.id}`);
        if (await holdsChildren(staging)) {
            interrupted.add(backup.id);
            report.kept.push(external_node_path_.join(parent, backup.name), staging);
        }
        else {
            await remove(backup.name);
        }
    }
    for (const prefix of prefixes) {
        if (prefix === BACKUP_PREFIX)
            continue;
        for (const leftover of dead(prefix)) {
            if (prefix === STAGING_PREFIX && interrupted.has(leftover.id))
                continue;
            await remove(leftover.name);
        }
    }
    return report;
}
async function holdsChildren(directory) {
    const children = await promises_.readdir(directory).catch(() => []);
    return children.length > 0;
}
/** The backup's name for a staging directory: the same `<pid>-<id>`, so they pair up. */
function backupNameFor(stagingDirectory) {
    return BACKUP_PREFIX + external_node_path_.basename(stagingDirectory).slice(STAGING_PREFIX.length);
}

;// CONCATENATED MODULE: ./src/archive/staging.ts
/**
 * A staging directory on the target's filesystem, so that putting the restored tree in
 * place is a handful of renames, and a failed restore leaves the target as it was.
 *
 * Layouts:
 *  - beside: `<parent>/.cachew-restore-<pid>-XXXXXX`, the usual case. An absent target is
 *    created by renaming the staging directory onto it.
 *  - inside: `<target>/.cachew-restore-<pid>-XXXXXX`, when the target is a mount point (a rename
 *    from its parent would cross filesystems) or its parent is not writable.
 * An existing target keeps its own inode (it may be a mount point, or the runner's working
 * directory): its children are swapped, never the directory itself.
 * What a killed restore left in either place is removed first (src/archive/leftovers.ts).
 */




async function prepareStaging(target, options = {}) {
    const resolved = await resolveTarget(target);
    await removeLeftovers(resolved, options.warn);
    const hooks = options;
    const rename = hooks.rename ?? promises_.rename;
    if (!resolved.exists) {
        const directory = await createStaging(resolved.nearestExisting);
        return new AbsentTargetStaging(resolved.path, directory, rename);
    }
    const mountPoint = await (hooks.isMountPoint ?? isMountPoint)(resolved.path);
    const directory = mountPoint
        ? await createStaging(resolved.path)
        : await createStagingBeside(resolved.path);
    return new ExistingTargetStaging(resolved.path, directory, rename);
}
/** A directory whose device differs from its parent's is a mount point. */
async function isMountPoint(directory) {
    const [own, parent] = await Promise.all([promises_.stat(directory), promises_.stat(external_node_path_.dirname(directory))]);
    return own.dev !== parent.dev || own.ino === parent.ino;
}
async function resolveTarget(target) {
    const absolute = external_node_path_.resolve(target);
    let existing = absolute;
    const missing = [];
    for (;;) {
        try {
            const real = await promises_.realpath(existing);
            const stat = await promises_.stat(real);
            if (!stat.isDirectory()) {
                throw new errors/* ExpectedError */.Dh(`The target ${existing} exists and is not a directory`);
            }
            const resolved = external_node_path_.join(real, ...missing);
            return { path: resolved, exists: missing.length === 0, nearestExisting: real };
        }
        catch (error) {
            if (error.code !== 'ENOENT')
                throw error;
            missing.unshift(external_node_path_.basename(existing));
            existing = external_node_path_.dirname(existing);
        }
    }
}
/** Staging and backup directories of killed restores, beside the target and inside it. */
async function removeLeftovers(resolved, warn) {
    const places = resolved.exists
        ? [external_node_path_.dirname(resolved.path), resolved.path]
        : [resolved.nearestExisting];
    for (const place of places) {
        const { kept } = await sweepLeftovers(place, [STAGING_PREFIX, BACKUP_PREFIX]);
        if (kept.length > 0) {
            warn?.(`A restore that was killed left ${kept.join(' and ')}; kept, since a swap was interrupted ` +
                'and the backup may hold the previous content. Remove them once checked.');
        }
    }
}
async function createStaging(parent) {
    const directory = await makeWorkDirectory(parent, STAGING_PREFIX);
    // mkdtemp makes it 0700; a target created from it should look like any new directory.
    await promises_.chmod(directory, 0o755);
    return directory;
}
/** Beside the target, or inside it when its parent is not writable. */
async function createStagingBeside(target) {
    try {
        return await createStaging(external_node_path_.dirname(target));
    }
    catch (error) {
        if (!isPermissionError(error))
            throw error;
        return createStaging(target);
    }
}
function isPermissionError(error) {
    return error.code === 'EACCES' || error.code === 'EPERM' || error.code === 'EROFS';
}
class BaseStaging {
    target;
    directory;
    rename;
    state = 'open';
    constructor(target, directory, rename) {
        this.target = target;
        this.directory = directory;
        this.rename = rename;
    }
    async commit() {
        if (this.state !== 'open')
            throw new Error(`Staging for ${this.target} is already ${this.state}`);
        this.state = 'committed';
        try {
            await this.putInPlace();
        }
        finally {
            await promises_.rm(this.directory, { recursive: true, force: true });
        }
    }
    async discard() {
        if (this.state === 'open')
            this.state = 'discarded';
        await promises_.rm(this.directory, { recursive: true, force: true });
    }
}
/** The target does not exist: create its parents and rename the staging directory onto it. */
class AbsentTargetStaging extends BaseStaging {
    async putInPlace() {
        const parent = external_node_path_.dirname(this.target);
        const created = await promises_.mkdir(parent, { recursive: true });
        try {
            await this.rename(this.directory, this.target);
        }
        catch (error) {
            if (created !== undefined)
                await removeCreatedParents(created, parent);
            throw error;
        }
    }
}
/** Undoes `mkdir -p`: removes the directories it made, deepest first, if still empty. */
async function removeCreatedParents(firstCreated, deepest) {
    for (let dir = deepest; dir.length >= firstCreated.length; dir = external_node_path_.dirname(dir)) {
        await promises_.rmdir(dir).catch(() => undefined);
        if (dir === firstCreated)
            break;
    }
}
/**
 * The target exists: its old children go to a backup directory on the same filesystem, the
 * staged children move in, and only then is the backup deleted. If a move fails, every move
 * made so far is undone in reverse order.
 */
class ExistingTargetStaging extends BaseStaging {
    async putInPlace() {
        const own = new Set([external_node_path_.basename(this.directory)]);
        const oldChildren = (await promises_.readdir(this.target)).filter(name => !own.has(name));
        const stagedChildren = await promises_.readdir(this.directory);
        const backup = oldChildren.length > 0 ? await this.createBackup() : undefined;
        const moves = [];
        const move = async (from, to) => {
            await this.rename(from, to);
            moves.push([from, to]);
        };
        try {
            for (const name of oldChildren)
                await move(external_node_path_.join(this.target, name), external_node_path_.join(backup, name));
            for (const name of stagedChildren)
                await move(external_node_path_.join(this.directory, name), external_node_path_.join(this.target, name));
        }
        catch (error) {
            await this.undo(moves, backup, error);
            throw error;
        }
        if (backup !== undefined)
            await removeBackup(backup);
    }
    /** Beside the staging directory, so on the target's filesystem in either layout. */
    async createBackup() {
        const backup = external_node_path_.join(external_node_path_.dirname(this.directory), backupNameFor(this.directory));
        await promises_.mkdir(backup, { mode: 0o700 });
        return backup;
    }
    /** Undoes the moves, newest first; one that fails does not stop the others. */
    async undo(moves, backup, cause) {
        const failures = [];
        for (const [from, to] of moves.reverse()) {
            await this.rename(to, from).catch((error) => failures.push(error.message));
        }
        if (failures.length === 0) {
            if (backup !== undefined)
                await promises_.rmdir(backup);
            return;
        }
        throw new errors/* ExpectedError */.Dh(`Could not restore ${this.target} after a failed swap (${cause.message}): ` +
            `${failures.join('; ')}; its previous content may be in ${backup}`);
    }
}
/**
 * The new tree is in place by now, so a failure here must not fail the restore; the leftover
 * is named in a process warning (shown in the job log) instead.
 */
async function removeBackup(backup) {
    try {
        await promises_.rm(backup, { recursive: true, force: true, maxRetries: 3 });
    }
    catch (error) {
        process.emitWarning(`Could not remove the previous content of the target, left in ${backup}: ${error.message}`);
    }
}

;// CONCATENATED MODULE: ./src/cache/runner-cache.ts
/**
 * A self-hosted runner keeps its disk between jobs: the last snapshot of each repository is
 * kept under RUNNER_TOOL_CACHE and revalidated with `If-None-Match` before the next restore,
 * so an unchanged snapshot costs one HEAD request instead of a download.
 *
 * Layout: `<RUNNER_TOOL_CACHE>/cachew-restore/<repository key>/`, holding `entry.json` (the
 * ETag, commit and size of the snapshot, and the name of its file) and that file,
 * `snapshot-<random>.tar.zst`. Every change is a rename, so two jobs at once never see half
 * an entry: a job stores its download under a fresh name, then swaps `entry.json`; a
 * reader opens the file the entry names and keeps its descriptor, so a file replaced or
 * evicted meanwhile stays readable to it. The total size is bounded: after a store, whole
 * repositories are evicted, least recently used first.
 */




const ENTRY_FILE = 'entry.json';
const SNAPSHOT_PREFIX = 'snapshot-';
/** How long a file no entry names may belong to a job between its two renames. */
const ORPHAN_GRACE_MS = 60 * 1000;
class RunnerCache {
    root;
    maxBytes;
    log;
    constructor(root, maxBytes, log) {
        this.root = root;
        this.maxBytes = maxBytes;
        this.log = log;
    }
    /** The cache under `toolCache`, or undefined when there is no place for it. */
    static async open(toolCache, maxBytes, log) {
        if (!toolCache) {
            log.info('The runner cache is on but RUNNER_TOOL_CACHE is not set: downloading as usual.');
            return undefined;
        }
        const root = external_node_path_.join(toolCache, 'cachew-restore');
        try {
            await promises_.mkdir(root, { recursive: true });
        }
        catch (error) {
            log.warning(`The runner cache is unusable (${error.message}); downloading.`);
            return undefined;
        }
        return new RunnerCache(root, maxBytes, log);
    }
    /** Opens the cached snapshot of a repository, if there is a sound one. */
    async lookup(serverUrl, repositoryUrl) {
        const directory = this.directoryFor(serverUrl, repositoryUrl);
        const entry = await readEntry(directory);
        if (!entry)
            return undefined;
        const file = external_node_path_.join(directory, entry.file);
        let handle;
        try {
            handle = await promises_.open(file, 'r');
        }
        catch {
            return undefined; // evicted or replaced between reading the entry and opening the file
        }
        if ((await handle.stat()).size !== entry.size) {
            await handle.close();
            this.log.info('The runner cache holds a snapshot of the wrong size; it will be replaced.');
            return undefined;
        }
        return { entry, file, handle };
    }
    /** Marks a repository's entry as just used, for eviction. */
    async touch(serverUrl, repositoryUrl) {
        const now = new Date();
        const entryFile = external_node_path_.join(this.directoryFor(serverUrl, repositoryUrl), ENTRY_FILE);
        await promises_.utimes(entryFile, now, now).catch(() => undefined);
    }
    /**
     * Moves a downloaded snapshot into the cache (a rename when it is on the same filesystem,
     * a copy otherwise) and makes it the repository's entry. Never fails the restore: a
     * problem is logged and the cache is left as it was.
     */
    async store(serverUrl, repositoryUrl, file, entry) {
        const directory = this.directoryFor(serverUrl, repositoryUrl);
        try {
            if (entry.size > this.maxBytes) {
                this.log.info(`The snapshot (${(0,report_log/* formatBytes */.z)(entry.size)}) is larger than runner-cache-max-gb; not kept.`);
                return;
            }
            await promises_.mkdir(directory, { recursive: true });
            const name = `${SNAPSHOT_PREFIX}${(0,external_node_crypto_.randomBytes)(6).toString('hex')}.tar.zst`;
            await moveOrCopy(file, external_node_path_.join(directory, name));
            await writeEntry(directory, { ...entry, file: name });
            await removeUnnamedSnapshots(directory, name);
            this.log.info(`Kept the snapshot in the runner cache for the next job (${directory}).`);
            await this.evict(directory);
        }
        catch (error) {
            this.log.warning(`Could not keep the snapshot in the runner cache: ${error.message}`);
        }
    }
    /** Forgets a repository's entry (its file turned out to be damaged). */
    async forget(serverUrl, repositoryUrl) {
        const directory = this.directoryFor(serverUrl, repositoryUrl);
        await promises_.rm(external_node_path_.join(directory, ENTRY_FILE), { force: true });
        await removeUnnamedSnapshots(directory, undefined).catch(() => undefined);
    }
    /** One directory per server and repository, named so a person can tell which is which. */
    directoryFor(serverUrl, repositoryUrl) {
        const readable = new URL(repositoryUrl).pathname
            .replace(/[^A-Za-z0-9_.-]+/g, '-')
            .replace(/^-+|-+$/g, '')
            .slice(0, 80);
        const key = (0,external_node_crypto_.createHash)('sha256').update(`${serverUrl}\n${repositoryUrl}`).digest('hex');
        return external_node_path_.join(this.root, `${readable}-${key.slice(0, 16)}`);
    }
    /** Removes whole repositories, least recently used first, until the cache fits. */
    async evict(keep) {
        const repositories = await listRepositories(this.root);
        let total = repositories.reduce((sum, r) => sum + r.bytes, 0);
        for (const repository of repositories.sort((a, b) => a.usedAt - b.usedAt)) {
            if (total <= this.maxBytes)
                return;
            if (repository.directory === keep)
                continue;
            await promises_.rm(repository.directory, { recursive: true, force: true });
            total -= repository.bytes;
            this.log.info(`Runner cache over its limit: removed ${external_node_path_.basename(repository.directory)}.`);
        }
    }
}
async function readEntry(directory) {
    let text;
    try {
        text = await promises_.readFile(external_node_path_.join(directory, ENTRY_FILE), 'utf8');
    }
    catch {
        return undefined;
    }
    try {
        const value = JSON.parse(text);
        const sound = typeof value.etag === 'string' &&
            value.etag !== '' &&
            typeof value.size === 'number' &&
            typeof value.file === 'string' &&
            value.file.startsWith(SNAPSHOT_PREFIX) &&
            !value.file.includes('/') &&
            (value.commit === undefined || typeof value.commit === 'string');
        return sound ? value : undefined;
    }
    catch {
        return undefined;
    }
}
async function writeEntry(directory, entry) {
    const temporary = external_node_path_.join(directory, `.${ENTRY_FILE}-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}`);
    await promises_.writeFile(temporary, JSON.stringify(entry), { mode: 0o644 });
    await promises_.rename(temporary, external_node_path_.join(directory, ENTRY_FILE));
}
async function moveOrCopy(from, to) {
    try {
        await promises_.rename(from, to);
        return;
    }
    catch (error) {
        if (error.code !== 'EXDEV')
            throw error;
    }
    // Another filesystem: copy under a hidden name first, so the rename is still the commit.
    const temporary = external_node_path_.join(external_node_path_.dirname(to), `.copy-${external_node_path_.basename(to)}`);
    try {
        await promises_.copyFile(from, temporary, promises_.constants.COPYFILE_FICLONE);
        await promises_.rename(temporary, to);
    }
    finally {
        await promises_.rm(temporary, { force: true });
    }
}
/**
 * Removes snapshot files no entry names (replaced ones, leftovers of killed jobs). A file
 * renamed in during the last minute (a rename sets its ctime) may be another job's, between
 * its rename and its entry swap, and is left for a later store.
 */
async function removeUnnamedSnapshots(directory, named) {
    const now = Date.now();
    for (const name of await promises_.readdir(directory)) {
        if (name === named || name === ENTRY_FILE)
            continue;
        const file = external_node_path_.join(directory, name);
        const stats = await promises_.stat(file).catch(() => undefined);
        if (stats && now - stats.ctimeMs >= ORPHAN_GRACE_MS)
            await promises_.rm(file, { force: true });
    }
}
async function listRepositories(root) {
    const repositories = [];
    for (const name of await promises_.readdir(root)) {
        const directory = external_node_path_.join(root, name);
        let bytes = 0;
        let usedAt = 0;
        try {
            for (const file of await promises_.readdir(directory)) {
                const stats = await promises_.stat(external_node_path_.join(directory, file));
                bytes += stats.size;
                if (file === ENTRY_FILE)
                    usedAt = stats.mtimeMs;
            }
        }
        catch {
            continue; // removed by another job meanwhile, or not a directory
        }
        repositories.push({ directory, bytes, usedAt });
    }
    return repositories;
}

;// CONCATENATED MODULE: ./node_modules/@actions/http-client/lib/proxy.js
function getProxyUrl(reqUrl) {
    const usingSsl = reqUrl.protocol === 'https:';
    if (checkBypass(reqUrl)) {
        return undefined;
    }
    const proxyVar = (() => {
        if (usingSsl) {
            return process.env['https_proxy'] || process.env['HTTPS_PROXY'];
        }
        else {
            return process.env['http_proxy'] || process.env['HTTP_PROXY'];
        }
    })();
    if (proxyVar) {
        try {
            return new DecodedURL(proxyVar);
        }
        catch (_a) {
            if (!proxyVar.startsWith('http://') && !proxyVar.startsWith('https://'))
                return new DecodedURL(`http://${proxyVar}`);
        }
    }
    else {
        return undefined;
    }
}
function checkBypass(reqUrl) {
    if (!reqUrl.hostname) {
        return false;
    }
    const reqHost = reqUrl.hostname;
    if (isLoopbackAddress(reqHost)) {
        return true;
    }
    const noProxy = process.env['no_proxy'] || process.env['NO_PROXY'] || '';
    if (!noProxy) {
        return false;
    }
    // Determine the request port
    let reqPort;
    if (reqUrl.port) {
        reqPort = Number(reqUrl.port);
    }
    else if (reqUrl.protocol === 'http:') {
        reqPort = 80;
    }
    else if (reqUrl.protocol === 'https:') {
        reqPort = 443;
    }
    // Format the request hostname and hostname with port
    const upperReqHosts = [reqUrl.hostname.toUpperCase()];
    if (typeof reqPort === 'number') {
        upperReqHosts.push(`${upperReqHosts[0]}:${reqPort}`);
    }
    // Compare request host against noproxy
    for (const upperNoProxyItem of noProxy
        .split(',')
        .map(x => x.trim().toUpperCase())
        .filter(x => x)) {
        if (upperNoProxyItem === '*' ||
            upperReqHosts.some(x => x === upperNoProxyItem ||
                x.endsWith(`.${upperNoProxyItem}`) ||
                (upperNoProxyItem.startsWith('.') &&
                    x.endsWith(`${upperNoProxyItem}`)))) {
            return true;
        }
    }
    return false;
}
function isLoopbackAddress(host) {
    const hostLower = host.toLowerCase();
    return (hostLower === 'localhost' ||
        hostLower.startsWith('127.') ||
        hostLower.startsWith('[::1]') ||
        hostLower.startsWith('[0:0:0:0:0:0:0:1]'));
}
class DecodedURL extends URL {
    constructor(url, base) {
        super(url, base);
        this._decodedUsername = decodeURIComponent(super.username);
        this._decodedPassword = decodeURIComponent(super.password);
    }
    get username() {
        return this._decodedUsername;
    }
    get password() {
        return this._decodedPassword;
    }
}
//# sourceMappingURL=proxy.js.map
// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(67);
// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(708);
// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(30);
;// CONCATENATED MODULE: ./src/download/agents.ts
/**
 * The transport's connections, by the route the runner's proxy variables give, each kept alive
 * and reused:
 * - direct: one keep-alive agent per scheme;
 * - an http:// server through a proxy: the request goes to the proxy in absolute form
 *   (`GET http://host:port/path`), over kept-alive connections to the proxy, as curl and git
 *   send it. No CONNECT: a stock squid allows CONNECT only to port 443, so tunnelling plain
 *   http fails behind it while git's requests through the same proxy work;
 * - an https:// server through a proxy: a CONNECT tunnel, TLS to the server inside it (SNI and
 *   certificate checks as on a direct connection, NODE_EXTRA_CA_CERTS included), and the TLS
 *   socket pooled like a direct one, so later requests reuse the tunnel instead of paying a
 *   CONNECT and a handshake each.
 *
 * Which requests take a proxy, and which one, is @actions/http-client's decision (its
 * lib/proxy: lower case before upper case, no_proxy, loopback hosts never proxied), imported
 * alone because the package's index also loads undici (about 50 ms and 23 MB of RSS at
 * start-up), which the action never uses.
 */





/**
 * The proxy itself turned the request down: it refused a CONNECT, or answered a forwarded
 * request in the server's place (407, or a squid error page).
 */
class ProxyRefusal extends Error {
    status;
    tunnel;
    detail;
    name = 'ProxyRefusal';
    constructor(status, tunnel, 
    /** The proxy's own words for it, when it gives them (squid's X-Squid-Error). */
    detail) {
        super(`the proxy answered HTTP ${status}${detail ? ` (${detail})` : ''}`);
        this.status = status;
        this.tunnel = tunnel;
        this.detail = detail;
    }
}
/** The route for `target`: which proxy, if any, and the variable consulted. */
function proxyFor(target) {
    const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
    const variable = names.find(name => process.env[name]);
    if (!variable || checkBypass(target))
        return { variable };
    const url = toolkitProxyUrl(target, variable);
    if (url?.protocol === 'http:' || url?.protocol === 'https:') {
        return { proxy: withCredentials(url, url.username, url.password), variable };
    }
    const value = process.env[variable] ?? '';
    const scheme = /^([^:/]*):\/\//.exec(value)?.[1];
    // `proxy.corp:3128` parses as a URL whose scheme is `proxy.corp:`, which the toolkit then
    // takes for no proxy at all; curl, and so git, read a value without a scheme as http://.
    if (scheme === undefined)
        return { proxy: schemelessProxy(value, variable), variable };
    if (scheme !== 'http' && scheme !== 'https') {
        throw new errors/* ExpectedError */.Dh(`${variable} names a ${scheme}:// proxy; only http:// and https:// proxies are supported`);
    }
    throw notAProxyUrl(variable);
}
/** The toolkit's parse, which also percent-decodes the credentials (and may throw doing so). */
function toolkitProxyUrl(target, variable) {
    try {
        return getProxyUrl(target);
    }
    catch {
        throw notAProxyUrl(variable);
    }
}
function schemelessProxy(value, variable) {
    try {
        const url = new URL(`http://${value}`);
        return withCredentials(url, decodeURIComponent(url.username), decodeURIComponent(url.password));
    }
    catch {
        throw notAProxyUrl(variable);
    }
}
function notAProxyUrl(variable) {
    return new errors/* ExpectedError */.Dh(`${variable} is not a proxy URL (http://HOST:PORT, with USER:PASSWORD@ percent-encoded)`);
}
function withCredentials(url, username, password) {
    if (!username && !password)
        return { url };
    const basic = Buffer.from(`${username}:${password}`).toString('base64');
    return { url, authorization: `Basic ${basic}` };
}
class Connections {
    maxSockets;
    direct;
    /** Per proxy (its URL, credentials included): the agent for forwarded requests, for tunnels. */
    forwarding = new Map();
    tunnelling = new Map();
    /** CONNECTs not answered yet: close() ends them too. */
    opening = new Set();
    constructor(maxSockets) {
        this.maxSockets = maxSockets;
        const options = { keepAlive: true, maxSockets };
        this.direct = { http: new external_node_http_.Agent(options), https: new external_node_https_.Agent(options) };
    }
    /** Whether requests to `target` go straight to it, through no proxy. */
    goesDirect(target) {
        return proxyFor(target).proxy === undefined;
    }
    /** Starts a request to `target`; the caller adds the listeners and ends it. */
    request(target, outgoing) {
        const { proxy, variable } = proxyFor(target);
        const { method, headers, signal } = outgoing;
        const secure = target.protocol === 'https:';
        if (!proxy) {
            const request = secure
                ? external_node_https_.request(target, { method, headers, agent: this.direct.https, signal })
                : external_node_http_.request(target, { method, headers, agent: this.direct.http, signal });
            return { request, route: { variable }, forwarded: false };
        }
        const route = { proxyHost: proxy.url.host, variable, proxyCredentials: !!proxy.authorization };
        if (secure) {
            const agent = this.tunnelAgent(proxy);
            return {
                request: external_node_https_.request(target, { method, headers, agent, signal }),
                route,
                forwarded: false
            };
        }
        const request = (proxy.url.protocol === 'https:' ? external_node_https_ : external_node_http_).request({
            ...proxyAddress(proxy),
            method,
            path: absoluteForm(target),
            headers: { ...headers, host: target.host, ...proxyAuthorization(proxy) },
            agent: this.forwardingAgent(proxy),
            signal
        });
        return { request, route, forwarded: true };
    }
    /** Closes every kept-alive socket and tunnel, and any CONNECT still unanswered. */
    close() {
        for (const connect of this.opening)
            connect.destroy();
        this.opening.clear();
        this.direct.http.destroy();
        this.direct.https.destroy();
        for (const agent of [...this.forwarding.values(), ...this.tunnelling.values()])
            agent.destroy();
        this.forwarding.clear();
        this.tunnelling.clear();
    }
    forwardingAgent(proxy) {
        let agent = this.forwarding.get(proxy.url.href);
        if (!agent) {
            const options = { keepAlive: true, maxSockets: this.maxSockets };
            agent = proxy.url.protocol === 'https:' ? new external_node_https_.Agent(options) : new external_node_http_.Agent(options);
            this.forwarding.set(proxy.url.href, agent);
        }
        return agent;
    }
    tunnelAgent(proxy) {
        let agent = this.tunnelling.get(proxy.url.href);
        if (!agent) {
            agent = new TunnelAgent(proxy, this.opening, { keepAlive: true, maxSockets: this.maxSockets });
            this.tunnelling.set(proxy.url.href, agent);
        }
        return agent;
    }
}
/**
 * An https agent whose connections are TLS sockets over CONNECT tunnels. Node's agent pools
 * them per server like any other connection, so a tunnel carries request after request for
 * as long as it stays open. Measured through squid (bench/proxy-tunnels.ts), 64 MiB in 1 MiB
 * chunks at concurrency 4: 4 CONNECTs instead of one per request (65), 2.03 s instead of
 * 2.67 s with 20 ms to the proxy, 0.89 s instead of 1.19 s without.
 */
class TunnelAgent extends external_node_https_.Agent {
    proxy;
    opening;
    constructor(proxy, opening, options) {
        super(options);
        this.proxy = proxy;
        this.opening = opening;
    }
    createConnection(options, callback) {
        const done = (error, stream) => callback?.(error, stream);
        const authority = `${bracketed(options.host ?? 'localhost')}:${options.port ?? 443}`;
        const userAgent = options.headers?.['user-agent'];
        openTunnel(this.proxy, authority, userAgent, this.opening).then(socket => {
            try {
                // https.Agent's own TLS connect, over the tunnel: the servername, the CA store
                // (NODE_EXTRA_CA_CERTS) and the session cache a direct connection gets.
                done(null, super.createConnection({ ...options, socket }));
            }
            catch (error) {
                socket.destroy();
                done(error);
            }
        }, done);
        return undefined;
    }
}
/** A CONNECT to `authority` through the proxy; resolves with the open tunnel. */
function openTunnel(proxy, authority, userAgent, opening) {
    return new Promise((resolve, reject) => {
        const connect = (proxy.url.protocol === 'https:' ? external_node_https_ : external_node_http_).request({
            ...proxyAddress(proxy),
            method: 'CONNECT',
            path: authority,
            headers: {
                host: authority,
                // Node marks a request without an agent `Connection: close`; this one becomes a tunnel
                // that carries many requests.
                connection: 'keep-alive',
                ...(userAgent && { 'user-agent': userAgent }),
                ...proxyAuthorization(proxy)
            },
            agent: false
        });
        opening.add(connect);
        const fail = (error) => {
            opening.delete(connect);
            reject(error);
        };
        connect.once('connect', (response, socket, head) => {
            opening.delete(connect);
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) {
                if (head.length > 0)
                    socket.unshift(head);
                resolve(socket);
            }
            else {
                socket.destroy();
                reject(new ProxyRefusal(status, true));
            }
        });
        // Node reports a refused CONNECT (a status other than 2xx) as an ordinary response.
        connect.once('response', response => {
            response.resume();
            fail(new ProxyRefusal(response.statusCode ?? 0, true));
        });
        connect.once('error', fail);
        connect.end();
    });
}
/**
 * The proxy's own answer to a forwarded request, if this response is one: 407 (only a proxy
 * asks for proxy credentials), or squid's error page (X-Squid-Error), so that a proxy that
 * cannot reach the server, or will not let the request through, is not reported as cachew's
 * answer.
 */
function proxyRefusal(response) {
    const status = response.statusCode ?? 0;
    const squid = response.headers['x-squid-error'];
    const detail = Array.isArray(squid) ? squid[0] : squid;
    if (status === 407 || detail)
        return new ProxyRefusal(status, false, detail);
    return undefined;
}
function proxyAuthorization(proxy) {
    return proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {};
}
/**
 * Where to connect for the proxy. Over TLS to the proxy, the name to check is the proxy's:
 * left to itself, Node's agent would take the servername from the Host header, which names
 * the server.
 */
function proxyAddress({ url }) {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (url.protocol === 'http:')
        return { protocol: 'http:', hostname, port: Number(url.port || 80) };
    // No SNI for an IP address (RFC 6066); the certificate is then checked against the IP.
    const servername = (0,external_node_net_.isIP)(hostname) ? '' : hostname;
    return { protocol: 'https:', hostname, port: Number(url.port || 443), servername };
}
/** The request target a proxy expects: the whole URL, without credentials or fragment. */
function absoluteForm(target) {
    return `${target.protocol}//${target.host}${target.pathname}${target.search}`;
}
function bracketed(host) {
    return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

// EXTERNAL MODULE: external "node:tls"
var external_node_tls_ = __webpack_require__(692);
;// CONCATENATED MODULE: ./src/download/range-lane.ts
/**
 * One kept-alive connection to the server that carries one GET at a time and reads every
 * response into one reused buffer (net's and tls's `onread`): the ranged chunks of a parallel
 * download, which are most of its bytes.
 *
 * Why not Node's HTTP client for them: it allocates a fresh buffer for every socket read and
 * passes each through a stream, and on a 2-core runner that CPU is taken from the extraction.
 * Measured downloading babel/babel's 223 MiB snapshot from nginx on loopback in 16 MiB ranges,
 * 8 at once, into a file (medians of 3, alternating): 0.81 CPU s, 26,000 minor page faults and
 * 140 MB of peak RSS through http.request, against 0.33 CPU s, 5,300 faults and 60 MB here;
 * over TLS, 0.60 CPU s, 23,700 faults and 134 MB against 0.33 CPU s, 5,900 and 66 MB.
 *
 * It speaks only what a ranged GET to cachew (or a file server) needs: HTTP/1.1, a body framed
 * by Content-Length, keep-alive. A response framed otherwise (chunked, or read until close) is
 * refused with UnframedResponseError before any body byte is taken, and the caller goes back to
 * Node's client. Only direct connections come here: a proxied route keeps the transport's
 * agents (agents.ts), which handle forwarding, tunnels and their errors.
 */



/** The response is not framed by Content-Length: the caller asks through Node's client instead. */
class UnframedResponseError extends Error {
    name = 'UnframedResponseError';
}
/**
 * 256 KiB: a loopback read brings up to 64 KiB at a time and a TLS record 16 KiB, so a
 * larger buffer is never filled; it is one allocation per connection, touched once.
 */
const BUFFER_SIZE = 256 * 1024;
/** Node's client refuses heads over 16 KiB by default; a server's ranged answer is far below. */
const HEAD_LIMIT = 64 * 1024;
/** A kept-alive connection the server closed before answering: sent again on a fresh one. */
class StaleConnectionError extends Error {
}
class RangeLane {
    origin;
    socket;
    /** Responses the current socket has carried to their end. */
    carried = 0;
    exchange;
    buffer = Buffer.allocUnsafeSlow(BUFFER_SIZE);
    session;
    constructor(origin) {
        this.origin = origin;
    }
    /**
     * GETs `url` (on this lane's origin) with `headers`; resolves once the whole body has gone to
     * `handlers.onBody`. Rejects with the network's error, with what the handlers threw, with
     * a TransientError for a body cut short, or with `signal`'s reason.
     */
    async get(url, headers, handlers, signal) {
        const request = requestText(url, headers);
        for (;;) {
            signal.throwIfAborted();
            try {
                await this.send(request, handlers, signal);
                return;
            }
            catch (error) {
                // Raised only on a connection that had carried others; the request goes again on a
                // fresh one, where a close unanswered is the network's failure (lost()).
                if (!(error instanceof StaleConnectionError))
                    throw error;
            }
        }
    }
    /** Drops the connection (a request in flight fails with `reason`). */
    close(reason = new Error('the connection was closed')) {
        this.drop(reason);
    }
    send(request, handlers, signal) {
        return new Promise((resolve, reject) => {
            const onAbort = () => this.drop(signal.reason);
            const settle = (outcome) => {
                signal.removeEventListener('abort', onAbort);
                this.exchange = undefined;
                outcome();
            };
            this.exchange = {
                handlers,
                resolve: () => settle(resolve),
                reject: error => settle(() => reject(error)),
                head: '',
                left: 0,
                expected: 0,
                answered: false,
                closeAfter: false
            };
            signal.addEventListener('abort', onAbort, { once: true });
            const socket = this.socket ?? this.connect();
            socket.write(request);
        });
    }
    connect() {
        const port = Number(this.origin.port) || (this.origin.protocol === 'https:' ? 443 : 80);
        const host = this.origin.hostname.replace(/^\[(.*)\]$/, '$1');
        const onread = {
            buffer: this.buffer,
            callback: (n) => this.received(n)
        };
        // tls.connect takes onread as net.connect does (Node 15 and later); its types lag.
        const secure = {
            host,
            port,
            // SNI only for a name, as Node's https agent does; the CA store is Node's default,
            // NODE_EXTRA_CA_CERTS included.
            servername: external_node_net_.isIP(host) ? undefined : host,
            ALPNProtocols: ['http/1.1'],
            session: this.session,
            onread
        };
        const socket = this.origin.protocol === 'https:' ? external_node_tls_.connect(secure) : external_node_net_.connect({ host, port, onread });
        socket.setNoDelay(true);
        if (socket instanceof external_node_tls_.TLSSocket)
            socket.on('session', session => (this.session = session));
        socket.on('error', error => this.lost(socket, error));
        socket.on('close', () => this.lost(socket, undefined));
        this.socket = socket;
        this.carried = 0;
        return socket;
    }
    /** The socket ended or failed: the request on it, if any, fails. */
    lost(socket, error) {
        if (socket !== this.socket)
            return;
        this.socket = undefined;
        const exchange = this.exchange;
        if (!exchange)
            return;
        if (!exchange.answered && this.carried > 0) {
            exchange.reject(new StaleConnectionError(error?.message ?? 'closed'));
        }
        else if (error) {
            exchange.reject(error);
        }
        else if (exchange.head !== undefined) {
            exchange.reject(new errors/* TransientError */.N_('the connection closed before a response came'));
        }
        else {
            const got = exchange.expected - exchange.left;
            exchange.reject(new errors/* TransientError */.N_(`a response ended after ${got} of ${exchange.expected} bytes`));
        }
        socket.destroy();
    }
    drop(reason) {
        const socket = this.socket;
        this.socket = undefined;
        socket?.destroy();
        this.exchange?.reject(reason);
    }
    /** onread's callback: `n` new bytes at the start of the buffer. */
    received(n) {
        const exchange = this.exchange;
        if (!exchange) {
            // Bytes nobody asked for: the connection cannot be trusted for the next request.
            this.drop(undefined);
            return false;
        }
        exchange.answered = true;
        try {
            let offset = 0;
            if (exchange.head !== undefined) {
                offset = this.readHead(exchange, n);
                if (exchange.head !== undefined)
                    return true; // the head goes on in the next read
            }
            const take = Math.min(n - offset, exchange.left);
            if (take > 0)
                exchange.handlers.onBody(this.buffer.subarray(offset, offset + take));
            exchange.left -= take;
            if (exchange.left > 0)
                return true;
            // More than the body: the server sends what was not asked for; do not reuse it.
            if (offset + take < n || exchange.closeAfter)
                this.retire();
            else
                this.carried++;
            exchange.resolve();
            return true;
        }
        catch (error) {
            this.drop(error);
            return false;
        }
    }
    /** The connection is done after this response: closed without failing the request. */
    retire() {
        const socket = this.socket;
        this.socket = undefined;
        socket?.destroy();
    }
    /** Takes head bytes from the buffer; returns where the body starts (or n). */
    readHead(exchange, n) {
        let offset = 0;
        while (exchange.head !== undefined && offset < n) {
            const scanned = exchange.head.length;
            const room = HEAD_LIMIT + 4 - scanned;
            const text = this.buffer.toString('latin1', offset, Math.min(n, offset + room));
            exchange.head += text;
            const end = exchange.head.indexOf('\r\n\r\n', Math.max(0, scanned - 3));
            if (end < 0) {
                if (exchange.head.length > HEAD_LIMIT)
                    throw new errors/* TransientError */.N_('a response head over 64 KiB');
                return n;
            }
            offset += end + 4 - scanned;
            const head = parseHead(exchange.head.slice(0, end));
            exchange.head = '';
            // 1xx answers (103 Early Hints from a CDN) come before the real one.
            if (head.statusCode >= 100 && head.statusCode < 200)
                continue;
            exchange.head = undefined;
            exchange.closeAfter = head.closeAfter;
            // The status first: an error's body is not read, whatever its framing.
            exchange.handlers.onHead(head);
            exchange.expected = exchange.left = bodyLength(head);
        }
        return offset;
    }
}
function requestText(url, headers) {
    let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [name, value] of Object.entries({ connection: 'keep-alive', ...headers })) {
        // A line break in a value would start another header (or request): Node's client refuses
        // it too. The value is not quoted: it may be a credential.
        if (/[\r\n\0]/.test(value))
            throw new TypeError(`invalid character in the ${name} header`);
        text += `${name}: ${value}\r\n`;
    }
    return `${text}\r\n`;
}
function parseHead(text) {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]);
    if (!status)
        throw new errors/* TransientError */.N_('a response that is not HTTP/1.x');
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
        const line = lines[i];
        const colon = line.indexOf(':');
        if (colon <= 0 || /^[ \t]/.test(line)) {
            throw new errors/* TransientError */.N_('a response head that does not parse');
        }
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'content-length' && name in headers && headers[name] !== value) {
            throw new errors/* TransientError */.N_('a response with two different Content-Length headers');
        }
        headers[name] ??= value;
    }
    const connection = (headers.connection ?? '').toLowerCase();
    const closeAfter = status[1] === '0' ? !/\bkeep-alive\b/.test(connection) : /\bclose\b/.test(connection);
    return { statusCode: Number(status[2]), headers, closeAfter };
}
/** The body's length, for the framings this lane reads. */
function bodyLength({ statusCode, headers }) {
    if (statusCode === 204 || statusCode === 304)
        return 0;
    if (headers['transfer-encoding'] !== undefined) {
        throw new UnframedResponseError(`Transfer-Encoding: ${headers['transfer-encoding']}`);
    }
    const length = headers['content-length'];
    if (length === undefined)
        throw new UnframedResponseError('no Content-Length');
    if (!/^\d+$/.test(length))
        throw new errors/* TransientError */.N_(`an invalid Content-Length (${length})`);
    return Number(length);
}

;// CONCATENATED MODULE: ./src/download/http.ts





class HttpTransport {
    credentials;
    connections;
    constructor(credentials, maxSockets) {
        this.credentials = credentials;
        this.connections = new Connections(maxSockets);
    }
    /** Sends a request; resolves with the response once its headers arrive. */
    request(url, options = {}) {
        const target = new URL(url);
        const headers = this.headersFor(url, options.headers);
        if (options.body !== undefined)
            headers['content-length'] = String(Buffer.byteLength(options.body));
        return new Promise((resolve, reject) => {
            const { request, route, forwarded } = this.connections.request(target, {
                method: options.method ?? 'GET',
                headers,
                signal: (0,cancellation/* orCancelled */.Nr)(options.signal)
            });
            request.on('response', response => {
                const refusal = forwarded ? proxyRefusal(response) : undefined;
                if (!refusal)
                    return resolve(response);
                discard(response);
                reject(asNetworkError(refusal, target, route));
            });
            request.on('error', error => reject(asNetworkError(error, target, route)));
            request.end(options.body);
        });
    }
    /** What every request to `url` carries: the user agent, and cachew's Authorization there. */
    headersFor(url, extra = {}) {
        const headers = { 'user-agent': 'cachew-restore', ...extra };
        const authorization = this.credentials &&
            authorizationFor(this.credentials.serverUrl, this.credentials.authorization, url);
        if (authorization)
            headers.authorization = authorization;
        return headers;
    }
    /**
     * A connection of its own for GETs to `url`'s server that reads into one reused buffer
     * (range-lane.ts), when requests there go direct; undefined through a proxy, whose route
     * stays with the agents.
     */
    openLane(url) {
        const target = new URL(url);
        return this.connections.goesDirect(target) ? new RangeLane(target) : undefined;
    }
    /** Closes idle kept-alive sockets and tunnels so the process can exit. */
    close() {
        this.connections.close();
    }
}
/** A whole (small) response body as text. */
async function readText(response) {
    const chunks = [];
    for await (const chunk of response)
        chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
}
/**
 * Network failures are transient, except two kinds that retrying only makes slower to report
 * (half a minute): a name that does not resolve (a typo in server-url, or a no_proxy that sends
 * the request past the only resolver that knows the name), and a proxy that refuses for good
 * (403, or 407 for credentials). The message names the host and, when one is involved, the
 * proxy and the variable that chose it (never credentials), so a wrong proxy setting reads as
 * one rather than as a fault of the server.
 */
function asNetworkError(error, target, route = {}) {
    if (error instanceof errors/* ExpectedError */.Dh)
        return error; // already explained (TransientError is one)
    const err = error;
    if (err?.name === 'AbortError')
        return err;
    const message = `network error talking to ${target.host}${describeRoute(route)}: ${networkReason(err, error, route)}`;
    if (err?.code === 'ENOTFOUND') {
        const check = route.proxyHost ? (route.variable ?? 'the proxy variables') : 'server-url';
        return new errors/* ExpectedError */.Dh(`${message}; check ${check}`);
    }
    if (error instanceof ProxyRefusal && (error.status === 403 || error.status === 407)) {
        return new errors/* ExpectedError */.Dh(message);
    }
    return new errors/* TransientError */.N_(message);
}
function describeRoute({ proxyHost, variable }) {
    if (proxyHost)
        return ` through the proxy ${proxyHost} (from ${variable ?? 'the proxy variables'})`;
    // A proxy is configured but this host is exempt (no_proxy, or a loopback address).
    return variable ? ` directly (exempt from ${variable} by no_proxy or as a loopback host)` : '';
}
function networkReason(err, error, route) {
    if (error instanceof ProxyRefusal)
        return refusalReason(error, route);
    const message = err?.message ?? '';
    // Through a proxy the action connects to nothing else: a failed connect is the proxy's.
    if (route.proxyHost && (err?.syscall === 'connect' || err?.syscall === 'getaddrinfo'))
        return `could not reach the proxy (${message})`;
    if (err?.code === 'ENOTFOUND')
        return 'the host name does not resolve (ENOTFOUND)';
    return err?.code ?? (message || String(error));
}
function refusalReason(refusal, route) {
    const what = refusal.tunnel
        ? `the proxy refused the tunnel with HTTP ${refusal.status}`
        : `the proxy answered HTTP ${refusal.status} itself${refusal.detail ? ` (${refusal.detail})` : ''}`;
    if (refusal.status !== 407)
        return what;
    const variable = route.variable ?? 'the proxy variable';
    return route.proxyCredentials
        ? `${what}: it did not accept the credentials in ${variable}`
        : `${what}: it wants credentials, as http://USER:PASSWORD@${route.proxyHost} in ${variable}`;
}
/**
 * Gets rid of a response whose body is not wanted: a small one is drained so its kept-alive
 * connection can be reused, a large or unknown one (a whole snapshot that ignored Range) is
 * cut off rather than downloaded.
 */
function discard(response) {
    const length = Number(header(response, 'content-length') ?? NaN);
    if (length <= 65536)
        response.resume();
    else
        response.destroy();
}
function header(response, name) {
    const value = response.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
}

;// CONCATENATED MODULE: ./src/cachew/snapshot.ts

function first(value) {
    const text = Array.isArray(value) ? value[0] : value;
    return text?.trim() || undefined;
}
function snapshotFields(serverUrl, headers) {
    const commit = first(headers['x-cachew-snapshot-commit']);
    const bundle = first(headers['x-cachew-bundle-url']);
    const lfs = first(headers['x-cachew-lfs-snapshot-url']);
    return {
        commit: commit && /^[0-9a-f]{40,64}$/i.test(commit) ? commit.toLowerCase() : undefined,
        bundleUrl: bundle ? resolveServerUrl(serverUrl, bundle) : undefined,
        lfsSnapshotUrl: lfs ? resolveServerUrl(serverUrl, lfs) : undefined
    };
}

;// CONCATENATED MODULE: ./src/cachew/status.ts
/**
 * What each HTTP status from cachew means for the action: the policy in one place.
 * Messages name the status and what to do, and never carry credentials.
 */

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Maps a status that is not the expected success to the error to throw. */
function errorForStatus(status, context) {
    const where = `the ${context.what} (${context.url})`;
    if (status === 401 || status === 403) {
        const hint = context.authorized
            ? "the server refused the credentials in the 'authorization' input; check the secret's value and that it is allowed to read this repository"
            : "the server requires credentials; set the 'authorization' input (e.g. authorization: Bearer ${{ secrets.CACHEW_TOKEN }})";
        return new errors/* ServerError */.gP(status, `cachew answered HTTP ${status} for ${where}: ${hint}.`);
    }
    if (status === 404) {
        return new errors/* CacheMissError */.dE(status, `cachew has no ${context.what} for this repository (HTTP 404 from ${context.url}).`);
    }
    if (status === 412 || status === 416) {
        return new errors/* SnapshotChangedError */.RP(`cachew regenerated the snapshot while it was being downloaded (HTTP ${status}).`);
    }
    if (RETRYABLE.has(status)) {
        return new errors/* TransientError */.N_(`cachew answered HTTP ${status} for ${where}`, parseRetryAfter(context.retryAfter));
    }
    return new errors/* ServerError */.gP(status, `cachew answered HTTP ${status} for ${where}; check the server's logs and that server-url points at a cachew server.`);
}
/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value, now = Date.now()) {
    if (!value)
        return undefined;
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed))
        return Number(trimmed) * 1000;
    const date = Date.parse(trimmed);
    if (Number.isNaN(date))
        return undefined;
    return Math.max(0, date - now);
}

;// CONCATENATED MODULE: ./src/cachew/client.ts





class CachewClient {
    settings;
    transport;
    snapshotUrl;
    /** A transport of its own with `maxSockets` connections, or one shared with another client. */
    constructor(settings, connections) {
        this.settings = settings;
        this.transport =
            typeof connections === 'number' ? new HttpTransport(settings, connections) : connections;
        this.snapshotUrl = snapshotUrl(settings.serverUrl, settings.repositoryUrl);
    }
    /**
     * The same server for another repository (a submodule), over this client's transport and
     * connections; closing this client closes it too.
     */
    forRepository(repositoryUrl) {
        return new CachewClient({ ...this.settings, repositoryUrl }, this.transport);
    }
    /**
     * HEAD of the snapshot, optionally conditional (If-None-Match: 304 when it is still that
     * one). Any status is returned as it is; only the network fails.
     */
    async headSnapshot(options = {}) {
        const headers = {};
        if (options.ifNoneMatch !== undefined)
            headers['if-none-match'] = options.ifNoneMatch;
        const response = await this.transport.request(this.snapshotUrl, {
            method: 'HEAD',
            headers,
            signal: options.signal
        });
        response.resume();
        const size = Number(header(response, 'content-length'));
        const head = {
            status: response.statusCode ?? 0,
            etag: header(response, 'etag'),
            size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
            fields: snapshotFields(this.settings.serverUrl, response.headers)
        };
        return head;
    }
    /** Asks cachew to bring its mirror up to date for these refs and commits (one attempt). */
    ensureRefs(request) {
        return postEnsureRefs(this.transport, this.settings, request);
    }
    /** Closes idle kept-alive connections so the process can exit. */
    close() {
        this.transport.close();
    }
}
const ENSURE_REFS_TIMEOUT_MS = 120_000;
/**
 * Asks cachew to bring its mirror up to date for these refs and commits, once (./retry.ts
 * is the one retry layer). Failures are typed as the download's are: the transport makes a
 * network error a TransientError, and the status policy of src/cachew/status.ts types a
 * status (5xx and 429 transient, with Retry-After; 401, 403 and the rest not).
 */
async function postEnsureRefs(transport, settings, request) {
    const url = ensureRefsUrl(settings.serverUrl, settings.repositoryUrl);
    const signal = AbortSignal.timeout(ENSURE_REFS_TIMEOUT_MS);
    try {
        const response = await transport.request(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request),
            signal
        });
        const body = await bodyText(response, url);
        const status = response.statusCode ?? 0;
        if (status !== 200) {
            throw errorForStatus(status, {
                what: 'ensure-refs endpoint',
                url,
                authorized: settings.authorization !== undefined,
                retryAfter: header(response, 'retry-after')
            });
        }
        return parseEnsureRefsAnswer(body);
    }
    catch (error) {
        // Not transient: ensure-refs only helps the fetch that follows anyway, and eight waits of
        // two minutes would hold the job for sixteen.
        if (signal.aborted) {
            throw new errors/* ExpectedError */.Dh(`ensure-refs did not answer within ${ENSURE_REFS_TIMEOUT_MS / 1000} s`);
        }
        throw error;
    }
}
/** The whole body; a connection lost on the way is a network error, as before the headers. */
async function bodyText(response, url) {
    const chunks = [];
    try {
        for await (const chunk of response)
            chunks.push(chunk);
    }
    catch (error) {
        throw asNetworkError(error, new URL(url));
    }
    return Buffer.concat(chunks).toString('utf8');
}
function briefBody(body) {
    const text = body.trim().slice(0, 200);
    return text ? `: ${text}` : '';
}
function parseEnsureRefsAnswer(body) {
    let parsed;
    try {
        parsed = JSON.parse(body);
    }
    catch {
        throw new errors/* ExpectedError */.Dh(`ensure-refs answered with invalid JSON${briefBody(body)}`);
    }
    const value = (parsed ?? {});
    const refs = {};
    if (value.refs && typeof value.refs === 'object') {
        for (const [name, sha] of Object.entries(value.refs)) {
            if (typeof sha === 'string' && sha !== '')
                refs[name] = sha.toLowerCase();
        }
    }
    const missingCommits = Array.isArray(value.missing_commits)
        ? value.missing_commits
            .filter((sha) => typeof sha === 'string')
            .map(s => s.toLowerCase())
        : [];
    return { refs, missingCommits, fetched: value.fetched === true };
}

// EXTERNAL MODULE: external "node:events"
var external_node_events_ = __webpack_require__(474);
// EXTERNAL MODULE: external "node:timers/promises"
var external_node_timers_promises_ = __webpack_require__(500);
;// CONCATENATED MODULE: ./src/download/retry.ts
/**
 * The one retry policy of the download: exponential backoff with full jitter, the
 * server's Retry-After honoured (plus jitter, so many runners do not return in
 * lockstep), bounded per request and for the whole download.
 */


const DEFAULT_RETRY_POLICY = {
    attemptsPerRequest: 8,
    totalRetries: 200,
    baseDelayMs: 250,
    maxDelayMs: 15_000,
    maxRetryAfterMs: 60_000
};
/** Delay before retry number `attempt` (1-based). */
function retryDelay(policy, attempt, retryAfterMs, random = Math.random) {
    if (retryAfterMs !== undefined) {
        const wait = Math.min(retryAfterMs, policy.maxRetryAfterMs);
        return wait + random() * Math.max(wait / 2, policy.baseDelayMs);
    }
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + (random() * ceiling) / 2;
}
/** Counts retries across the whole download. */
class RetryBudget {
    policy;
    used = 0;
    constructor(policy) {
        this.policy = policy;
    }
    /** Waits before the next attempt, or rethrows when a bound is reached. */
    async wait(error, consecutiveFailures, signal) {
        if (consecutiveFailures >= this.policy.attemptsPerRequest) {
            throw new errors/* TransientError */.N_(`${error.message} (gave up after ${consecutiveFailures} attempts)`);
        }
        if (this.used >= this.policy.totalRetries) {
            throw new errors/* TransientError */.N_(`${error.message} (gave up: ${this.used} retries in this download)`);
        }
        this.used++;
        await (0,external_node_timers_promises_.setTimeout)(retryDelay(this.policy, consecutiveFailures, error.retryAfterMs), undefined, {
            signal
        });
    }
}

;// CONCATENATED MODULE: ./src/download/download.ts
/**
 * Downloads a snapshot into a Spool. The first request asks for the first chunk and
 * yields the plan; when the server pins the object with an ETag and honours Range, the
 * rest goes out as ranged requests (If-Match), at most `concurrency` in flight, each
 * verified, resumed from where it broke, and retried by one policy. Otherwise the first
 * response is the whole download: one stream, resumed by Range when the server allows.
 */






/** Stats before the first request (and of a restore that needed none). */
function noDownloadYet(concurrencyLimit) {
    return {
        mode: 'single',
        bytes: 0,
        requests: 0,
        retries: 0,
        inFlight: 0,
        maxInFlight: 0,
        concurrencyLimit
    };
}
/** A body that carried more bytes than its range: the chunk is fetched again from its start. */
class OverlongBodyError extends errors/* TransientError */.N_ {
}
class Download {
    url;
    spool;
    options;
    stats;
    /** Settles when every byte is in the spool (then spool.finish was called) or on failure. */
    completion;
    info;
    budget;
    segments = [];
    resumable = false;
    /** Ranged chunks go over RangeLanes until a response comes that a lane cannot read. */
    lanes = true;
    /** Says when a request ends, for workers waiting while the pool is shrunk. */
    slots = new external_node_events_.EventEmitter();
    /** Aborts every request of this download once one part has failed for good. */
    cancel = new AbortController();
    signal;
    constructor(url, spool, options) {
        this.url = url;
        this.spool = spool;
        this.options = options;
        this.budget = new RetryBudget(options.retry ?? DEFAULT_RETRY_POLICY);
        this.signal = AbortSignal.any([options.signal, this.cancel.signal]);
        // Every worker may wait here at once (up to 64).
        this.slots.setMaxListeners(0);
        this.stats = noDownloadYet(options.concurrency);
    }
    /**
     * Sends the discovery request and resolves once the plan is known; the transfer goes on
     * in the background (`completion`). A failure before the plan is known rejects here.
     */
    static async start(url, spool, options) {
        const download = new Download(url, spool, options);
        const first = await download.discover();
        download.completion = download.transfer(first).then(() => spool.finish(download.totalBytes()), (error) => {
            const failure = error instanceof Error ? error : new Error(String(error));
            spool.fail(failure);
            throw failure;
        });
        // The caller observes completion; this keeps an early failure from being "unhandled".
        download.completion.catch(() => undefined);
        return download;
    }
    totalBytes() {
        const last = this.segments[this.segments.length - 1];
        return last.end === Infinity ? this.spool.frontier : last.end;
    }
    get what() {
        return this.options.what ?? 'snapshot';
    }
    /** Returns the first response (headers read, body unread) and fixes the plan. */
    async discover() {
        const { concurrency, chunkSize } = this.options;
        let askRange = concurrency > 1;
        let failures = 0;
        for (;;) {
            const headers = askRange ? { range: `bytes=0-${chunkSize - 1}` } : {};
            try {
                const attempt = await this.send(headers);
                const { response } = attempt;
                const status = response.statusCode ?? 0;
                if (status === 416 && askRange) {
                    // An empty object cannot be ranged: ask for it whole.
                    attempt.release();
                    askRange = false;
                    continue;
                }
                if (status !== 200 && status !== 206 && status !== 204) {
                    attempt.release();
                    throw this.statusError(response);
                }
                if (this.plan(response))
                    return attempt;
                // A partial answer the action cannot pin (no ETag): ask for the whole object.
                attempt.release();
                askRange = false;
            }
            catch (error) {
                if (!(error instanceof errors/* TransientError */.N_))
                    throw error;
                failures++;
                this.stats.retries++;
                await this.budget.wait(error, failures, this.signal);
            }
        }
    }
    /** Sets info, segments and mode from the first response; false when it must be asked again. */
    plan(response) {
        const status = response.statusCode ?? 0;
        const etag = strongEtag(header(response, 'etag'));
        const range = parseContentRange(header(response, 'content-range'));
        const length = parseLength(header(response, 'content-length'));
        const chunkSize = this.options.chunkSize;
        if (status === 206) {
            if (!range || range.start !== 0)
                return false;
            if (range.end + 1 < range.size && !etag)
                return false;
            this.info = { size: range.size, etag, headers: response.headers, status };
            this.resumable = etag !== undefined;
            this.segments = [{ start: 0, end: range.end + 1 }];
            for (let start = range.end + 1; start < range.size; start += chunkSize) {
                this.segments.push({ start, end: Math.min(start + chunkSize, range.size) });
            }
        }
        else {
            // 204 (a bundle endpoint's "nothing to apply") is an empty object.
            const size = status === 204 ? 0 : length;
            this.info = { size, etag, headers: response.headers, status };
            this.resumable =
                etag !== undefined && size !== undefined && header(response, 'accept-ranges') === 'bytes';
            this.segments = [{ start: 0, end: size ?? Infinity }];
        }
        this.stats.mode = this.segments.length > 1 ? 'parallel' : 'single';
        this.spool.setSegments(this.segments);
        return true;
    }
    /**
     * Runs the segments through at most `concurrency` workers; the first one takes the discovery
     * response. Each worker fetches its ranged chunks over a lane of its own (a direct
     * connection: the transport gives none through a proxy).
     */
    async transfer(first) {
        const queue = this.segments.map((_, index) => index).slice(1);
        let failure;
        const worker = async (firstAttempt) => {
            const lane = queue.length > 0 ? this.options.transport.openLane(this.url) : undefined;
            try {
                if (firstAttempt)
                    await this.fetchSegment(0, undefined, firstAttempt);
                for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
                    await this.waitForSlot();
                    await this.fetchSegment(index, lane);
                }
            }
            catch (error) {
                if (!failure) {
                    failure = { error };
                    this.cancel.abort(error);
                }
            }
            finally {
                lane?.close();
            }
        };
        const workers = [worker(first)];
        for (let i = 1; i < Math.min(this.options.concurrency, this.segments.length); i++)
            workers.push(worker());
        await Promise.all(workers);
        if (failure)
            throw failure.error;
    }
    /**
     * Backs off when the server is over capacity: after a 429/503 the pool runs fewer
     * requests at once, growing back by one per completed chunk.
     */
    async waitForSlot() {
        while (this.stats.inFlight >= this.stats.concurrencyLimit) {
            await (0,external_node_events_.once)(this.slots, 'freed', { signal: this.signal }).catch((error) => {
                throw this.signal.aborted ? this.signal.reason : error;
            });
        }
    }
    /** Fetches one segment, resuming from where a failed attempt stopped. */
    async fetchSegment(index, lane, firstAttempt) {
        const segment = this.segments[index];
        let position = segment.start;
        let failures = 0;
        let attempt = firstAttempt;
        for (;;) {
            const cursor = { position };
            const range = {
                range: `bytes=${position}-${segment.end - 1}`,
                'if-match': this.info.etag ?? ''
            };
            try {
                if (attempt === undefined && lane && this.lanes) {
                    await this.receiveOverLane(lane, range, index, cursor, segment.end);
                }
                else {
                    attempt ??= await this.send(range);
                    if (attempt !== firstAttempt)
                        this.checkChunk(attempt.response, position, segment.end);
                    await this.receive(attempt, index, cursor, segment.end);
                }
                this.stats.concurrencyLimit = Math.min(this.options.concurrency, this.stats.concurrencyLimit + 1);
                return;
            }
            catch (error) {
                attempt?.release();
                attempt = undefined;
                if (error instanceof UnframedResponseError) {
                    // Framed otherwise than by Content-Length (chunked, say): Node's client reads those.
                    this.lanes = false;
                    continue;
                }
                if (!(error instanceof errors/* TransientError */.N_))
                    throw error;
                if (!this.resumable) {
                    throw new errors/* RestartRequiredError */.Be(`${error.message}; the server cannot resume this download`);
                }
                const progressed = cursor.position > position;
                position = error instanceof OverlongBodyError ? segment.start : cursor.position;
                failures = progressed ? 1 : failures + 1;
                if (error.retryAfterMs !== undefined || /HTTP (429|503)/.test(error.message)) {
                    this.stats.concurrencyLimit = Math.max(1, Math.ceil(this.stats.concurrencyLimit / 2));
                }
                this.stats.retries++;
                await this.budget.wait(error, failures, this.signal);
            }
        }
    }
    /** Verifies a chunk response: 206, the exact range and size, the pinned ETag. */
    checkChunk(response, start, end) {
        const status = response.statusCode ?? 0;
        if (status === 200)
            throw new errors/* TransientError */.N_('the server ignored Range and sent the whole object');
        if (status !== 206) {
            const error = this.statusError(response);
            // The snapshot was found moments ago: a 404 now is a server failure, not a miss.
            if (error instanceof errors/* CacheMissError */.dE)
                throw new errors/* ServerError */.gP(404, `${error.message} It disappeared mid-download.`);
            throw error;
        }
        const etag = header(response, 'etag');
        if (etag !== undefined && etag !== this.info.etag) {
            throw new errors/* SnapshotChangedError */.RP('cachew regenerated the snapshot while it was being downloaded (ETag changed).');
        }
        const range = parseContentRange(header(response, 'content-range'));
        if (!range)
            throw new errors/* TransientError */.N_('a ranged response had no valid Content-Range');
        if (range.size !== this.info.size) {
            throw new errors/* SnapshotChangedError */.RP('cachew regenerated the snapshot while it was being downloaded (size changed).');
        }
        if (range.start !== start || range.end !== end - 1) {
            throw new errors/* TransientError */.N_(`asked for bytes ${start}-${end - 1}, got ${range.start}-${range.end}`);
        }
        const length = parseLength(header(response, 'content-length'));
        if (length !== undefined && length !== end - start) {
            throw new errors/* TransientError */.N_(`Content-Length ${length} does not match the ${end - start} bytes asked for`);
        }
    }
    /** Streams a response body into the spool; every byte is accounted for. */
    async receive(attempt, index, cursor, end) {
        try {
            for await (const data of attempt.response) {
                attempt.touch();
                const room = end - cursor.position;
                const part = data.length > room ? data.subarray(0, room) : data;
                if (part.length > 0) {
                    await this.spool.write(index, part, cursor.position);
                    cursor.position += part.length;
                    this.stats.bytes += part.length;
                }
                if (data.length > room) {
                    throw new OverlongBodyError(`a response sent more than the ${end} bytes of its range`);
                }
            }
        }
        catch (error) {
            throw attempt.failure(error);
        }
        finally {
            attempt.release();
        }
        if (end !== Infinity && cursor.position < end) {
            throw new errors/* TransientError */.N_(`a response ended after ${cursor.position} of ${end} bytes`);
        }
    }
    /**
     * Fetches a chunk over a lane into the spool, verified as checkChunk verifies, under the same
     * stall watchdog. The lane's buffer is reused at its next read, so each piece is written
     * before the callback returns.
     */
    async receiveOverLane(lane, headers, index, cursor, end) {
        const attempt = this.startAttempt();
        const start = cursor.position;
        try {
            await lane.get(new URL(this.url), this.options.transport.headersFor(this.url, headers), {
                onHead: head => {
                    attempt.touch();
                    this.checkChunk(head, start, end);
                },
                onBody: bytes => {
                    attempt.touch();
                    this.spool.writeSync(index, bytes, cursor.position);
                    cursor.position += bytes.length;
                    this.stats.bytes += bytes.length;
                }
            }, attempt.signal);
        }
        catch (error) {
            throw error instanceof UnframedResponseError ? error : attempt.failure(error);
        }
        finally {
            attempt.release();
        }
    }
    /** A request's watchdog and slot; counts the request. */
    startAttempt() {
        this.stats.requests++;
        return new Attempt(this.url, this.options.stallTimeoutMs, this.signal, this.stats, () => this.slots.emit('freed'));
    }
    /** Sends one request under a stall watchdog that aborts it (AbortSignal) when no bytes come. */
    async send(headers) {
        const attempt = this.startAttempt();
        try {
            attempt.response = await this.options.transport.request(this.url, {
                headers,
                signal: attempt.signal
            });
            attempt.touch();
            return attempt;
        }
        catch (error) {
            attempt.release();
            throw attempt.failure(error);
        }
    }
    statusError(response) {
        return errorForStatus(response.statusCode ?? 0, {
            what: this.what,
            url: this.url,
            authorized: this.options.authorized ?? false,
            retryAfter: header(response, 'retry-after')
        });
    }
}
/** One request in flight: its abort controller, stall watchdog and in-flight accounting. */
class Attempt {
    url;
    stats;
    onRelease;
    response;
    controller = new AbortController();
    signal;
    watchdog;
    released = false;
    constructor(url, stallTimeoutMs, parent, stats, onRelease) {
        this.url = url;
        this.stats = stats;
        this.onRelease = onRelease;
        this.signal = AbortSignal.any([parent, this.controller.signal]);
        this.watchdog = setTimeout(() => {
            const seconds = Math.round(stallTimeoutMs / 1000);
            this.controller.abort(new errors/* TransientError */.N_(`no data for ${seconds} s (stalled); retrying`));
        }, stallTimeoutMs);
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    }
    touch() {
        this.watchdog.refresh();
    }
    /** Ends the request: stops the watchdog and frees the slot; a body still unread is dropped. */
    release() {
        if (this.released)
            return;
        this.released = true;
        clearTimeout(this.watchdog);
        this.stats.inFlight--;
        if (this.response && !this.response.complete)
            discard(this.response);
        this.onRelease();
    }
    /** The error to report for a failure of this request: the stall, the caller's abort, or the network's. */
    failure(error) {
        if (this.signal.aborted)
            return this.signal.reason;
        if (error instanceof errors/* TransientError */.N_ ||
            error instanceof errors/* RestartRequiredError */.Be ||
            error instanceof errors/* ServerError */.gP)
            return error;
        return asNetworkError(error, new URL(this.url));
    }
}
/** `bytes S-E/T` → numbers; undefined for anything else (including `*`). */
function parseContentRange(value) {
    const match = value && /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
    if (!match)
        return undefined;
    const [start, end, size] = match.slice(1).map(Number);
    return start <= end && end < size ? { start, end, size } : undefined;
}
function parseLength(value) {
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
/** Only a strong ETag can pin ranged requests with If-Match (RFC 9110 §13.1.1). */
function strongEtag(value) {
    return value && !value.startsWith('W/') ? value : undefined;
}

;// CONCATENATED MODULE: ./src/download/location.ts
/**
 * Where the download's temp file goes: RUNNER_TEMP when it is on the target's filesystem;
 * otherwise a hidden directory beside the target, so a small tmpfs or a separate quota
 * cannot break a big restore. Before downloading, the space is checked.
 */





async function deviceOf(location) {
    for (let current = external_node_path_.resolve(location);; current = external_node_path_.dirname(current)) {
        try {
            return (await promises_.stat(current)).dev;
        }
        catch (error) {
            if (error.code !== 'ENOENT' || current === external_node_path_.dirname(current))
                throw error;
        }
    }
}
async function chooseSpoolDirectory(tempDir, target, log) {
    await promises_.mkdir(tempDir, { recursive: true });
    await sweepLeftovers(tempDir, [SPOOL_PREFIX]);
    const own = await makeWorkDirectory(tempDir, SPOOL_PREFIX);
    if ((await deviceOf(own)) === (await deviceOf(target))) {
        return { path: own, cleanup: () => promises_.rm(own, { recursive: true, force: true }) };
    }
    await promises_.rm(own, { recursive: true, force: true });
    const parent = external_node_path_.dirname(target);
    await promises_.mkdir(parent, { recursive: true });
    await sweepLeftovers(parent, [SPOOL_BESIDE_PREFIX]);
    const beside = await makeWorkDirectory(parent, SPOOL_BESIDE_PREFIX);
    log.info(`RUNNER_TEMP (${tempDir}) is on another filesystem than ${target}; downloading into ${beside}`);
    return { path: beside, cleanup: () => promises_.rm(beside, { recursive: true, force: true }) };
}
/** Fails early, with the numbers, when the compressed snapshot cannot fit. */
async function ensureFreeSpace(directory, bytes) {
    if (bytes === undefined)
        return;
    const stats = await promises_.statfs(directory);
    const free = stats.bavail * stats.bsize;
    if (free < bytes) {
        throw new errors/* ExpectedError */.Dh(`Not enough disk space for the snapshot: it needs ${(0,report_log/* formatBytes */.z)(bytes)} in ${directory}, ` +
            `${(0,report_log/* formatBytes */.z)(free)} is free. Free some space or point RUNNER_TEMP at a larger volume.`);
    }
}

// EXTERNAL MODULE: ./src/download/spool.ts + 1 modules
var download_spool = __webpack_require__(638);
;// CONCATENATED MODULE: ./src/report/phases.ts
/** Runs one phase and records how long it took. */
async function timed(phases, name, fn) {
    const start = performance.now();
    const value = await fn();
    phases.push({ name, seconds: (performance.now() - start) / 1000 });
    return value;
}

// EXTERNAL MODULE: ./src/archive/git-blobs.ts
var git_blobs = __webpack_require__(271);
;// CONCATENATED MODULE: ./src/git/bundle.ts

/** Anything wrong with the bundle; the restore warns and falls back to fetching. */
class BundleError extends Error {
    name = 'BundleError';
}
/** A temporary ref that keeps the fetched objects reachable until the checks pass. */
const STAGING_REF = 'refs/cachew-restore/bundle';
/** `currentBranch`: the snapshot's branch, which the caller has read already (none: detached). */
async function applyBundle(git, file, currentBranch) {
    await verifyBundle(git, file);
    const heads = await listBundleHeads(git, file);
    // chooseHead takes a lone branch head whatever the preference: asking git which branches
    // to prefer would only cost a process (cachew's bundles carry the default branch alone).
    const preferred = branchHeads(heads).length > 1 ? await preferredBranches(git, currentBranch) : [];
    const head = chooseHead(heads, preferred);
    const branch = head.ref.slice('refs/heads/'.length);
    let staged = true;
    try {
        await wrapGit('fetch from the bundle', () => git.run([
            'fetch',
            '--quiet',
            '--no-tags',
            '--no-write-fetch-head',
            file,
            `+${head.ref}:${STAGING_REF}`
        ]));
        const commit = await git.read(['rev-parse', '--verify', `${STAGING_REF}^{commit}`]);
        if (commit !== head.commit) {
            throw new BundleError(`bundle head ${head.ref} resolved to ${commit}, expected ${head.commit}`);
        }
        if (!(await git.test(['merge-base', '--is-ancestor', 'HEAD', commit]))) {
            throw new BundleError(`bundle head ${commit} does not descend from the snapshot's HEAD`);
        }
        // One transaction, one process: origin's branch moves and the temporary ref goes together.
        const commands = `update refs/remotes/origin/${branch} ${commit}\ndelete ${STAGING_REF}\n`;
        await git.run(['update-ref', '--stdin'], { input: commands });
        staged = false;
        return { ref: head.ref, commit, branch };
    }
    finally {
        if (staged)
            await git.run(['update-ref', '-d', STAGING_REF]);
    }
}
/** `git bundle verify` checks the header and that every prerequisite commit is here. */
async function verifyBundle(git, file) {
    await wrapGit('bundle verify', () => git.run(['bundle', 'verify', '--quiet', file]));
}
async function listBundleHeads(git, file) {
    const output = await wrapGit('bundle list-heads', () => git.read(['bundle', 'list-heads', file]));
    return output
        .split('\n')
        .filter(line => line.trim() !== '')
        .map(line => {
        const [commit, ref] = line.trim().split(/\s+/, 2);
        return { commit, ref };
    });
}
/**
 * The snapshot's current branch first, then origin's default branch; a bundle with a single
 * branch head needs no preference.
 */
function chooseHead(heads, preferred) {
    const branches = branchHeads(heads);
    for (const branch of preferred) {
        const match = branches.find(head => head.ref === `refs/heads/${branch}`);
        if (match)
            return match;
    }
    if (branches.length === 1)
        return branches[0];
    const names = heads.map(head => head.ref).join(', ') || 'none';
    throw new BundleError(`no bundle head matches the snapshot's branch (bundle heads: ${names})`);
}
function branchHeads(heads) {
    return heads.filter(head => head.ref.startsWith('refs/heads/'));
}
async function preferredBranches(git, currentBranch) {
    const names = currentBranch ? [currentBranch] : [];
    const originHead = await git.run(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], {
        okExitCodes: [1, 128]
    });
    const prefix = 'refs/remotes/origin/';
    if (originHead.exitCode === 0 && originHead.stdout.startsWith(prefix)) {
        names.push(originHead.stdout.trim().slice(prefix.length));
    }
    return names;
}
async function wrapGit(what, action) {
    try {
        return await action();
    }
    catch (error) {
        if (error instanceof GitError)
            throw new BundleError(`${what}: ${error.stderr || error.message}`);
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/git/retry.ts
/**
 * The one retry layer of git traffic through cachew: each `git fetch` and each ensure-refs
 * request is one operation, tried again as a whole under the download's policy
 * (src/download/retry.ts: exponential backoff with full jitter, the server's Retry-After,
 * a bounded number of attempts). Only ensure-refs sees a Retry-After: git does not pass the
 * response's headers on. Nothing below retries: ensure-refs' client has its retries
 * off, and git does not retry a failed HTTP request itself (2.39, as tested here).
 *
 * Retried: HTTP 5xx and 429 (408 and 425 too, by the status policy of src/cachew/status.ts),
 * connection resets and refusals, timeouts, and git's "RPC failed" and "early EOF". Not
 * retried: 401, 403 and 404, a name that does not resolve, and a missing commit or ref, which
 * another attempt cannot change.
 */




/**
 * Runs `operation` until it succeeds, fails in a way another attempt cannot change, or the
 * policy's attempts are used up; then rethrows its last error unchanged, so callers see the
 * GitError or ServerError they know.
 */
async function withRetries(what, operation, context) {
    const policy = context.policy ?? DEFAULT_RETRY_POLICY;
    const budget = new RetryBudget(policy);
    for (let failures = 1;; failures++) {
        try {
            return await operation();
        }
        catch (error) {
            const transient = transientFailure(error);
            if (!transient || context.signal?.aborted)
                throw error;
            if (failures >= policy.attemptsPerRequest) {
                context.log.info(`${what} failed ${failures} times (${transient.message}); giving up.`);
                throw error;
            }
            context.log.info(`${what} failed (${transient.message}); retrying, attempt ${failures + 1} of ` +
                `${policy.attemptsPerRequest}.`);
            await budget.wait(transient, failures, context.signal);
        }
    }
}
/** The failure as a TransientError when another attempt may succeed; undefined otherwise. */
function transientFailure(error) {
    if (error instanceof errors/* TransientError */.N_)
        return error;
    if (error instanceof GitError)
        return transientGitFailure(error);
    return undefined;
}
/**
 * Failures another attempt cannot change, as git 2.39 words them: the commit or ref is not
 * there ("not our ref", "couldn't find remote ref", "unadvertised object"), credentials
 * (a 401 reads "could not read Username" with prompts off), a repository not found (404),
 * a host that does not resolve.
 */
const PERMANENT = /not our ref|couldn't find remote ref|unadvertised object|could not read (username|password)|authentication failed|repository '[^']*' not found|could not resolve (host|proxy)/i;
/** The HTTP status git reports: "returned error: 502" (GET), "RPC failed; HTTP 502" (POST). */
const HTTP_STATUS = /RPC failed; HTTP (\d{3})|The requested URL returned error: (\d{3})/;
/**
 * A broken or refused transfer, as git and libcurl report it: a pack cut short ("early
 * EOF", "unexpected disconnect", "bytes of body are still expected"), a reset or empty
 * reply, a refused connection, a timeout, and "RPC failed" without a status.
 */
const BROKEN_TRANSFER = /early EOF|unexpected disconnect|bytes of body are still expected|RPC failed|connection reset|recv failure|empty reply from server|transfer closed with|remote end hung up unexpectedly|failed to connect|couldn't connect to server|timed out/i;
function transientGitFailure(error) {
    const stderr = error.stderr;
    if (PERMANENT.test(stderr))
        return undefined;
    const status = HTTP_STATUS.exec(stderr);
    if (status) {
        const code = Number(status[1] ?? status[2]);
        // One policy for statuses: the action's own requests' (src/cachew/status.ts).
        const mapped = errorForStatus(code, { what: 'git request', url: '', authorized: false });
        return mapped instanceof errors/* TransientError */.N_ ? new errors/* TransientError */.N_(gitsReason(stderr)) : undefined;
    }
    return BROKEN_TRANSFER.test(stderr) ? new errors/* TransientError */.N_(gitsReason(stderr)) : undefined;
}
/** git's first error or fatal line (lines before it may be the server's, "remote: ..."). */
function gitsReason(stderr) {
    const lines = stderr.split('\n').filter(line => line.trim() !== '');
    return lines.find(line => /^(error|fatal):/.test(line)) ?? lines[0] ?? stderr;
}

;// CONCATENATED MODULE: ./src/git/freshen.ts
/**
 * Making the destination's commit local when the snapshot and bundle do not have it: ask
 * cachew to make sure it has the refs and commits (`ensure-refs`), then fetch just those
 * through cachew's git endpoint (straight from upstream only when git-through-cachew is off).
 * The snapshot has full history, so fetches are never shallow. Each fetch and each ensure-refs
 * request is retried as a whole by the one retry layer of git traffic (./retry.ts).
 */






function knownAtStart(start, freshness) {
    const commits = new Set([start.commit]);
    const refs = new Map();
    if (start.upstream)
        refs.set(start.upstream.ref, start.upstream.commit);
    if (freshness.bundle) {
        commits.add(freshness.bundle.commit);
        refs.set(`refs/remotes/origin/${freshness.bundle.branch}`, freshness.bundle.commit);
    }
    return { commits, refs };
}
function retryContext(context) {
    return { log: context.log, signal: context.git.signal };
}
/**
 * Runs ensure-refs, retried; a failure is a warning, since the fetch that follows may still
 * work.
 */
async function tryEnsureRefs(context, request) {
    try {
        return await withRetries('cachew ensure-refs', () => context.cachew.ensureRefs(request), retryContext(context));
    }
    catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        context.log.warning(`cachew ensure-refs failed (${reason}); fetching anyway`);
        return undefined;
    }
}
/**
 * Fetches refspecs through cachew (or upstream without git-through-cachew), never tags;
 * retried as a whole when the transfer broke or the server answered 5xx or 429.
 */
async function fetchThroughCachew(context, refspecs) {
    const { git, settings } = context;
    const via = settings.gitThroughCachew ? 'through cachew' : 'from upstream';
    context.log.info(`Fetching ${refspecs.join(' ')} ${via}`);
    const args = [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        settings.repositoryUrl,
        ...refspecs
    ];
    context.known?.refs.clear();
    const config = accessConfig(settings);
    const packDir = external_node_path_.join(git.directory, '.git', 'objects', 'pack');
    const before = new Set(await namesIn(packDir));
    const attempt = async () => {
        try {
            await git.run(args, { config });
        }
        catch (error) {
            await removeTempPacks(packDir, before);
            throw error;
        }
    };
    await withRetries(`git fetch ${via}`, attempt, retryContext(context));
}
/**
 * A fetch cut off mid-pack leaves index-pack's tmp_pack_* behind (git 2.39); another attempt
 * would add one more each time, and they would stay in .git for good.
 */
async function removeTempPacks(packDir, before) {
    const left = (await namesIn(packDir)).filter(name => name.startsWith('tmp_') && !before.has(name));
    await Promise.all(left.map(name => promises_.rm(external_node_path_.join(packDir, name), { force: true })));
}
async function namesIn(directory) {
    try {
        return await promises_.readdir(directory);
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return [];
        throw error;
    }
}
async function hasCommit(context, commit) {
    if (context.known?.commits.has(commit))
        return true;
    return context.git.test(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`]);
}
async function resolveCommit(context, ref) {
    const known = context.known?.refs.get(ref);
    if (known !== undefined)
        return known;
    const result = await context.git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
        okExitCodes: [1]
    });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
}
function missingCommitError(context, commit) {
    const { repositoryUrl, serverUrl } = context.settings;
    return new errors/* ExpectedError */.Dh(`Commit ${commit} is not available from ${repositoryUrl} through cachew (${serverUrl}); ` +
        'was it force-pushed away, or does it belong to another repository?');
}
function fetchFailedError(context, commit, error) {
    const via = context.settings.gitThroughCachew
        ? `through cachew (${context.settings.serverUrl})`
        : 'from upstream';
    return new errors/* ExpectedError */.Dh(`Could not fetch commit ${commit} of ${context.settings.repositoryUrl} ${via}: ${error.stderr || error.message}`);
}
function missingRefError(context, what) {
    return new errors/* ExpectedError */.Dh(`${what} does not exist in ${context.settings.repositoryUrl}`);
}
/** Where a fetched ref is kept locally: branches as origin's, pull refs as actions/checkout does. */
function localRefFor(ref) {
    if (ref.startsWith('refs/heads/'))
        return `refs/remotes/origin/${ref.slice('refs/heads/'.length)}`;
    if (ref.startsWith('refs/tags/'))
        return ref;
    return `refs/remotes/${ref.slice('refs/'.length)}`;
}
/**
 * Makes `commit` local: nothing when it already is; otherwise ensure-refs, then fetch `ref`
 * (cheap and allowed by every server), then the commit itself if the ref has moved on.
 * Returns whether anything was fetched.
 */
async function ensureCommit(context, commit, ref) {
    if (await hasCommit(context, commit))
        return false;
    const expected = ref.startsWith('refs/tags/') ? '' : commit;
    const answer = await tryEnsureRefs(context, { refs: { [ref]: expected }, commits: [commit] });
    if (answer?.missingCommits.includes(commit))
        throw missingCommitError(context, commit);
    if (!answer || answer.refs[ref]) {
        await fetchQuietlyOrWarn(context, [`+${ref}:${localRefFor(ref)}`]);
    }
    if (await hasCommit(context, commit))
        return true;
    await fetchCommit(context, commit);
    return true;
}
/** Fetches one commit by SHA through cachew; fails naming it when it is still not local. */
async function fetchCommit(context, commit) {
    try {
        await fetchThroughCachew(context, [commit]);
    }
    catch (error) {
        if (error instanceof GitError)
            throw fetchFailedError(context, commit, error);
        throw error;
    }
    if (!(await hasCommit(context, commit)))
        throw missingCommitError(context, commit);
}
/** A ref fetch that may fail harmlessly, because fetching the commit by SHA follows. */
async function fetchQuietlyOrWarn(context, refspecs) {
    try {
        await fetchThroughCachew(context, refspecs);
    }
    catch (error) {
        if (!(error instanceof GitError))
            throw error;
        context.log.warning(`Fetching ${refspecs.join(' ')} failed (${error.stderr}); trying the commit`);
    }
}
/**
 * The upstream tip of `ref` (a full ref name), fetched into its local ref when not already
 * there. Undefined when the ref does not exist upstream.
 */
async function freshenRef(context, ref, answer) {
    const local = localRefFor(ref);
    const tip = answer?.refs[ref];
    if (answer && !tip)
        return undefined;
    if (tip && (await resolveCommit(context, local)) === tip)
        return tip;
    try {
        await fetchThroughCachew(context, [`+${ref}:${local}`]);
    }
    catch (error) {
        // Without ensure-refs' answer, a failed fetch is how we learn the ref does not exist.
        if (!answer && error instanceof GitError && /couldn't find remote ref/i.test(error.stderr)) {
            return undefined;
        }
        throw error;
    }
    return resolveCommit(context, local);
}
/** Moves refs/remotes/origin/<branch> forward to `commit`, never backward. */
async function advanceRemoteBranch(context, branch, commit) {
    const { git } = context;
    const remoteRef = `refs/remotes/origin/${branch}`;
    const current = await resolveCommit(context, remoteRef);
    if (current === commit)
        return;
    if (current && !(await git.test(['merge-base', '--is-ancestor', current, commit])))
        return;
    await git.run(['update-ref', remoteRef, commit]);
    context.known?.refs.set(remoteRef, commit);
}
/**
 * Makes the destination's commit local and says where to check out. Returns whether
 * anything was fetched alongside.
 */
async function resolveDestination(context, destination, start, freshness) {
    context = { ...context, known: knownAtStart(start, freshness) };
    switch (destination.kind) {
        case 'snapshot':
            return resolveSnapshotHead(context, start, freshness);
        case 'branch':
            return resolveBranch(context, destination.branch, destination.commit);
        case 'tag':
            return resolveTag(context, destination.tag, destination.commit);
        case 'detached-ref':
            return resolveDetachedRef(context, destination.ref, destination.commit);
        case 'commit': {
            const ref = destination.commit;
            const fetched = await ensureCommitBySha(context, destination.commit);
            return { resolved: { commit: destination.commit, ref }, fetched };
        }
        case 'branch-or-tag':
            return resolveBranchOrTag(context, destination.name);
    }
}
async function resolveSnapshotHead(context, start, freshness) {
    const { git } = context;
    if (!start.branch) {
        const commit = freshness.bundle?.commit ?? start.commit;
        return { resolved: { commit, ref: commit }, fetched: false };
    }
    const ref = `refs/heads/${start.branch}`;
    if (freshness.bundle?.branch === start.branch) {
        return {
            resolved: { commit: freshness.bundle.commit, branch: start.branch, ref },
            fetched: false
        };
    }
    if (!freshness.fetchInstead) {
        return { resolved: { commit: start.commit, branch: start.branch, ref }, fetched: false };
    }
    const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] });
    const tip = await freshenRef(context, ref, answer);
    if (tip && (await git.test(['merge-base', '--is-ancestor', start.commit, tip]))) {
        return { resolved: { commit: tip, branch: start.branch, ref }, fetched: true };
    }
    context.log.warning(`origin/${start.branch} is not ahead of the snapshot; staying at ${start.commit}`);
    return { resolved: { commit: start.commit, branch: start.branch, ref }, fetched: true };
}
async function resolveBranch(context, branch, commit) {
    const ref = `refs/heads/${branch}`;
    if (commit) {
        const fetched = await ensureCommit(context, commit, ref);
        await advanceRemoteBranch(context, branch, commit);
        return { resolved: { commit, branch, ref }, fetched };
    }
    const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] });
    const tip = await freshenRef(context, ref, answer);
    if (!tip)
        throw missingRefError(context, `Branch '${branch}'`);
    return { resolved: { commit: tip, branch, ref }, fetched: true };
}
async function resolveTag(context, tag, commit) {
    const ref = `refs/tags/${tag}`;
    const localTag = await resolveCommit(context, ref);
    if (commit) {
        // The tag itself is fetched too when missing, so `git describe` works as after checkout.
        const fetched = localTag
            ? await ensureCommit(context, commit, ref)
            : await fetchTagFor(context, ref, commit);
        return { resolved: { commit, ref }, fetched };
    }
    if (localTag)
        return { resolved: { commit: localTag, ref }, fetched: false };
    const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] });
    const tip = await freshenRef(context, ref, answer);
    if (!tip)
        throw missingRefError(context, `Tag '${tag}'`);
    return { resolved: { commit: tip, ref }, fetched: true };
}
async function fetchTagFor(context, ref, commit) {
    const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [commit] });
    if (answer?.missingCommits.includes(commit))
        throw missingCommitError(context, commit);
    if (!answer || answer.refs[ref])
        await fetchQuietlyOrWarn(context, [`+${ref}:${ref}`]);
    await ensureCommitBySha(context, commit);
    return true;
}
async function resolveDetachedRef(context, ref, commit) {
    if (commit) {
        const fetched = await ensureCommit(context, commit, ref);
        return { resolved: { commit, ref }, fetched };
    }
    const answer = await tryEnsureRefs(context, { refs: { [ref]: '' }, commits: [] });
    const tip = await freshenRef(context, ref, answer);
    if (!tip)
        throw missingRefError(context, `Ref '${ref}'`);
    return { resolved: { commit: tip, ref }, fetched: true };
}
async function ensureCommitBySha(context, commit) {
    if (await hasCommit(context, commit))
        return false;
    const answer = await tryEnsureRefs(context, { refs: {}, commits: [commit] });
    if (answer?.missingCommits.includes(commit))
        throw missingCommitError(context, commit);
    await fetchCommit(context, commit);
    return true;
}
/** An unqualified name: a branch if one exists upstream, else a tag (as actions/checkout). */
async function resolveBranchOrTag(context, name) {
    const branchRef = `refs/heads/${name}`;
    const tagRef = `refs/tags/${name}`;
    const answer = await tryEnsureRefs(context, {
        refs: { [branchRef]: '', [tagRef]: '' },
        commits: []
    });
    const branchTip = await freshenRef(context, branchRef, answer);
    if (branchTip)
        return { resolved: { commit: branchTip, branch: name, ref: branchRef }, fetched: true };
    const tagTip = await freshenRef(context, tagRef, answer);
    if (tagTip)
        return { resolved: { commit: tagTip, ref: tagRef }, fetched: true };
    throw new errors/* ExpectedError */.Dh(`No branch or tag named '${name}' exists in ${context.settings.repositoryUrl}`);
}

// EXTERNAL MODULE: ./src/archive/file-stats.ts
var file_stats = __webpack_require__(608);
;// CONCATENATED MODULE: ./src/git/index-stat.ts
/**
 * Makes an extracted snapshot's index clean without rehashing the tree. After extraction every
 * index entry's stat data (ctime, mtime, dev, inode, uid, gid, size) describes the files on the
 * machine that made the snapshot, so git would read and hash every file once to find them
 * unchanged (`git update-index --refresh`: 1.1 s of one core for babel/babel's 182 MB). The
 * extractor already hashed each file as its bytes passed; this module takes those blob ids and,
 * for every entry whose id and file type match, writes the file's stat data into the entry in
 * place: the extractor's own record of it (src/archive/file-stats.ts) when it has one, else
 * the file's lstat. Nothing else in the index changes, so every extension stays valid; the
 * trailing checksum is recomputed. An entry that does not match keeps its stale stat data, and
 * git goes on seeing it as possibly changed and checks its content as it always would.
 *
 * Measured on babel/babel's snapshot (27,674 entries, 5 MB index; bench/index-stat.ts, medians
 * of 5-7 alternating runs, 2 cores): 0.15 s wall, 0.16 s CPU, 2,200 minor faults on a tmpfs
 * (0.14 s, 0.15 s, 1,500 on journaled ext4), against 0.49 s, 0.50 s, 4,200 (0.55 s, 0.57 s,
 * 4,150) for `git update-index --refresh`; the index written is byte for byte git's, and the
 * first `git status` after either costs the same (0.17-0.20 s) and opens no tracked file.
 * Taking the extractor's record instead of an lstat per file halves the pass: one call per
 * fresh process, on a tmpfs, medians of 7 alternating, 0.10 s wall, 0.09 s CPU, 4,200 minor
 * faults against 0.20 s, 0.20 s, 5,500 with lstat, writing the same bytes.
 *
 * The layout (gitformat-index(5)): a 12-byte header ("DIRC", version, entry count), the
 * entries, the extensions (4-byte signature, 32-bit size, data), then a hash of everything
 * before it. An entry starts with ten 32-bit big-endian fields: ctime s, ctime ns, mtime s,
 * mtime ns, dev, ino, mode, uid, gid, size; then the object id, 16-bit flags, in version 3+ an
 * optional 16-bit extended flags field, then the path: NUL-padded to a multiple of 8 bytes in
 * versions 2 and 3, prefix-compressed against the previous path and unpadded in version 4.
 */





const SIGNATURE = 0x44495243; // "DIRC"
const HEADER_LENGTH = 12;
/** ctime, mtime (s and ns each), dev, ino, mode, uid, gid, size: ten 32-bit fields. */
const STAT_LENGTH = file_stats/* STAT_FIELDS */.vh * 4;
const MODE_OFFSET = file_stats/* MODE_FIELD */.Vs * 4;
const FLAG_EXTENDED = 0x4000;
const FLAG_STAGE_MASK = 0x3000;
const NAME_MASK = 0x0fff;
const EXTENDED_SKIP_WORKTREE = 0x4000;
const EXTENDED_INTENT_TO_ADD = 0x2000;
/** Extended flag bits git knows; any other set bit makes git refuse the index. */
const EXTENDED_KNOWN = EXTENDED_SKIP_WORKTREE | EXTENDED_INTENT_TO_ADD;
const MODE_REGULAR = 0o100644;
const MODE_EXECUTABLE = 0o100755;
const MODE_SYMLINK = 0o120000;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IXUSR = 0o100;
/** Char codes of '0'-'9', 'a'-'f'. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', c => c.charCodeAt(0));
/** Index paths are decoded one char per byte, so a char above 0x7f is a byte above 0x7f. */
const NON_ASCII = /[\x80-\xff]/;
class Fallback extends Error {
}
/**
 * `fileStats`, when given, is the extractor's stat data of blobIds' files
 * (ExtractResult.fileStats), written for the entries it has one for instead of an lstat; only
 * while nothing has changed those files since (a rename changes a ctime).
 */
async function writeIndexStat(worktree, blobIds, fileStats) {
    const gitDir = external_node_path_.join(worktree, '.git');
    try {
        const gitDirStat = await lstatOrUndefined(gitDir);
        // A gitfile (worktree, submodule) or a symlink points at a git directory elsewhere: a
        // snapshot is a plain clone, so anything else is not the layout this module was made for.
        if (!gitDirStat?.isDirectory())
            throw new Fallback('.git is not a directory');
        const format = await readRepositoryFormat(gitDir);
        return await patchLocked(worktree, gitDir, format, blobIds, fileStats);
    }
    catch (error) {
        if (error instanceof Fallback)
            return { updated: 0, stale: 0, fallback: error.message };
        throw error;
    }
}
/**
 * Takes `index.lock` the way git does (created exclusively) before reading the index, so no
 * git process can write the index between our read and our rename; then writes the patched
 * copy to the lock and renames it over the index. The lock is removed on every other path.
 */
async function patchLocked(worktree, gitDir, format, blobIds, fileStats) {
    const indexPath = external_node_path_.join(gitDir, 'index');
    const lockPath = `${indexPath}.lock`;
    let lock;
    try {
        lock = await promises_.open(lockPath, 'wx');
    }
    catch (error) {
        // EEXIST: another git process holds the index (or one died holding it). Git refuses to
        // write then, and so do we; the caller's git command reports it in git's own words.
        throw new Fallback(`cannot create ${external_node_path_.basename(lockPath)}: ${errorCode(error)}`);
    }
    let renamed = false;
    try {
        const index = await readIndexFile(indexPath);
        const layout = parseIndex(index.data, format);
        const counts = refreshEntries(worktree, index.data, layout, format, blobIds, fileStats);
        // Nothing verified: the index stays as it was, byte for byte, and git finds out the rest.
        if (counts.updated === 0)
            return counts;
        if (!layout.zeroTrailer) {
            const body = index.data.subarray(0, index.data.length - format.hashLength);
            (0,external_node_crypto_.createHash)(format.hashName).update(body).digest().copy(index.data, body.length);
        }
        // Racy git: git trusts an entry's stat data only if the entry's mtime is older than the
        // index file's own mtime (to the second; to the nanosecond in a USE_NSEC build), since a
        // file changed in the same tick as the index write could otherwise pass for clean. A
        // snapshot's mtimes are those of cachew's clone, older than this write, so every entry
        // written here is trusted. A file whose mtime is not older (a clock ahead of the runner's,
        // a file touched during extraction) is written too, its id having been verified; git then
        // compares that one file's content on each command, finds it clean, and stops once an index
        // write is newer than the file (`git status` makes that write itself). The test 'keeps a
        // file whose mtime is not older than the index clean' shows it.
        try {
            await lock.writeFile(index.data);
            // git creates the index with 0666 & ~umask, widened under core.sharedRepository; keeping
            // the old file's permissions keeps whichever of those applied.
            await lock.chmod(index.mode & 0o7777);
            await lock.close();
            await promises_.rename(lockPath, indexPath);
            renamed = true;
        }
        catch (error) {
            throw new Fallback(`cannot write the index: ${errorCode(error)}`);
        }
        return counts;
    }
    finally {
        if (!renamed) {
            await lock.close().catch(() => undefined);
            await promises_.rm(lockPath, { force: true });
        }
    }
}
async function readIndexFile(indexPath) {
    let handle;
    try {
        handle = await promises_.open(indexPath, 'r');
    }
    catch (error) {
        // A clone always has an index; without one there is nothing to patch (a --no-checkout
        // clone), and the caller's git decides what that means.
        const code = errorCode(error);
        throw new Fallback(code === 'ENOENT' ? 'no index' : `cannot open the index: ${code}`);
    }
    try {
        const { size, mode } = await handle.stat();
        const data = Buffer.allocUnsafe(size);
        let filled = 0;
        while (filled < size) {
            const { bytesRead } = await handle.read(data, filled, size - filled, filled);
            if (bytesRead === 0)
                throw new Fallback('the index shrank while it was read');
            filled += bytesRead;
        }
        return { data, mode };
    }
    finally {
        await handle.close();
    }
}
/**
 * Checks the header, the checksum, every entry's bounds and the extensions, and throws a
 * Fallback for anything this module must not patch. Nothing is written before all of it passed.
 */
function parseIndex(data, format) {
    const { hashLength } = format;
    if (data.length < HEADER_LENGTH + hashLength)
        throw new Fallback('the index is truncated');
    if (data.readUInt32BE(0) !== SIGNATURE)
        throw new Fallback('the index has no DIRC signature');
    const version = data.readUInt32BE(4);
    if (version < 2 || version > 4)
        throw new Fallback(`index version ${version} is not handled`);
    const trailerStart = data.length - hashLength;
    // index.skipHash writes zeros instead of the hash, and git then verifies nothing either; the
    // structural checks below are all that stands between a damaged file and a patch, as in git.
    const zeroTrailer = isZero(data, trailerStart, data.length);
    if (!zeroTrailer) {
        const actual = (0,external_node_crypto_.createHash)(format.hashName).update(data.subarray(0, trailerStart)).digest();
        if (!actual.equals(data.subarray(trailerStart))) {
            throw new Fallback(`the index checksum does not match (${format.hashName})`);
        }
    }
    const count = data.readUInt32BE(8);
    const offsets = new Uint32Array(count);
    const nameStarts = new Uint32Array(count);
    const nameEnds = new Uint32Array(count);
    const drops = new Uint32Array(version === 4 ? count : 0);
    const fixedLength = STAT_LENGTH + hashLength + 2;
    let offset = HEADER_LENGTH;
    let previousLength = 0; // version 4: the previous path's, which the next one is relative to
    for (let i = 0; i < count; i++) {
        if (offset + fixedLength > trailerStart)
            throw new Fallback('an index entry is truncated');
        offsets[i] = offset;
        const flags = data.readUInt16BE(offset + fixedLength - 2);
        let nameStart = offset + fixedLength;
        if (flags & FLAG_EXTENDED) {
            // Version 2 has no extended flags; git writes version 3 as soon as one entry needs them.
            if (version < 3)
                throw new Fallback('an extended flag in a version 2 index');
            if (nameStart + 2 > trailerStart)
                throw new Fallback('an index entry is truncated');
            const extended = data.readUInt16BE(nameStart);
            if (extended & ~EXTENDED_KNOWN)
                throw new Fallback('an unknown extended index flag');
            nameStart += 2;
        }
        const nameLength = flags & NAME_MASK;
        if (version === 4) {
            const parsed = readPrefix(data, nameStart, trailerStart, previousLength);
            const length = previousLength - parsed.drop + (parsed.nul - parsed.suffix);
            if (nameLength !== NAME_MASK && length !== nameLength) {
                throw new Fallback('an index entry name does not match its length');
            }
            nameStarts[i] = parsed.suffix;
            nameEnds[i] = parsed.nul;
            drops[i] = parsed.drop;
            previousLength = length;
            offset = parsed.nul + 1;
        }
        else {
            const nameEnd = nameLength === NAME_MASK ? data.indexOf(0, nameStart + NAME_MASK) : nameStart + nameLength;
            if (nameEnd < 0 || nameEnd >= trailerStart || data[nameEnd] !== 0) {
                throw new Fallback('an index entry name is not terminated');
            }
            nameStarts[i] = nameStart;
            nameEnds[i] = nameEnd;
            // 1 to 8 NULs pad the entry to a multiple of 8 bytes, counted from the entry's start.
            offset += (nameEnd - offset + 8) & ~7;
        }
    }
    checkExtensions(data, offset, trailerStart);
    return { version, offsets, nameStarts, nameEnds, drops, zeroTrailer };
}
/**
 * Version 4: a varint N (the pack format's offset encoding) says how many bytes to drop from
 * the end of the previous path, then a NUL-terminated suffix follows.
 */
function readPrefix(data, start, limit, previousLength) {
    let at = start;
    if (at >= limit)
        throw new Fallback('an index entry is truncated');
    let byte = data[at++];
    let drop = byte & 0x7f;
    while (byte & 0x80) {
        // No path is near 2^20 bytes long; stopping there also keeps the arithmetic exact.
        if (at >= limit || drop > 1 << 20)
            throw new Fallback('an index entry name is malformed');
        byte = data[at++];
        drop = (drop + 1) * 128 + (byte & 0x7f);
    }
    if (drop > previousLength)
        throw new Fallback('an index entry name is malformed');
    const nul = data.indexOf(0, at);
    if (nul < 0 || nul >= limit)
        throw new Fallback('an index entry name is not terminated');
    return { drop, suffix: at, nul };
}
/**
 * The extensions must exactly fill the space between the entries and the trailer. We change no
 * extension's bytes, and their offsets stay where they are, so each remains valid: TREE and
 * REUC hold object ids, UNTR and FSMN their own stat data and bitmaps, EOIE and IEOT offsets
 * and sizes, none of which move. Git's rule for the rest: a signature starting with A-Z may be
 * ignored by a reader that does not know it, any other is required to read the index right.
 */
function checkExtensions(data, start, trailerStart) {
    if (start > trailerStart)
        throw new Fallback('an index entry is truncated');
    let offset = start;
    while (offset < trailerStart) {
        if (offset + 8 > trailerStart)
            throw new Fallback('an index extension is truncated');
        const signature = data.toString('latin1', offset, offset + 4);
        const size = data.readUInt32BE(offset + 4);
        if (size > trailerStart - offset - 8)
            throw new Fallback('an index extension is truncated');
        if (signature === 'link') {
            // A split index: most entries live in $GIT_DIR/sharedindex.<hash>, and this file's
            // entries replace or add to those by position. Patching both files right is a second
            // format for a setting (core.splitIndex) no snapshot is made with.
            throw new Fallback('split index (link extension)');
        }
        const optional = data[offset] >= 0x41 && data[offset] <= 0x5a;
        // sdir marks a sparse index: some entries are directories (mode 040000, skip-worktree),
        // which the entry loop skips like every skip-worktree entry; the file entries are ordinary.
        if (!optional && signature !== 'sdir') {
            throw new Fallback(`unknown required index extension '${printable(signature)}'`);
        }
        offset += 8 + size;
    }
}
/**
 * Writes stat data into every entry that qualifies (isCandidate, a matching id, matchesMode)
 * and counts the rest. The stat data is the extractor's record where `fileStats` has one,
 * else an lstat of the file. The lstat is synchronous: the files were just written, so their
 * inodes are cached and each call is a short path walk, which the thread pool's round trip
 * would cost more than. Measured on babel/babel's 27,674 paths on a tmpfs: lstatSync 75-145
 * ms; fs.lstat callbacks 400-530 ms with 4 in flight, 210-300 ms with 64. The syscalls were
 * most of this function's time (a CPU profile: 110 ms of 140 ms), hence the record.
 */
function refreshEntries(worktree, data, layout, format, blobIds, fileStats) {
    const { offsets, nameStarts, nameEnds, drops, version } = layout;
    const { hashLength } = format;
    const flagsAt = STAT_LENGTH + hashLength;
    const prefix = worktree.endsWith(external_node_path_.sep) ? worktree : worktree + external_node_path_.sep;
    const recorded = fileStats === undefined ? undefined : (0,file_stats/* recordOffsets */.QF)(blobIds, fileStats);
    const lstatFields = new Uint32Array(file_stats/* STAT_FIELDS */.vh);
    // Only a name as long as a wanted one can be wanted: when few are (the top-level files after
    // a move into place), the other entries are passed over without making a string of their
    // names. babel/babel, 40 top-level names among 27,674 entries: the pass in 27 ms instead of
    // 35 ms (medians of 5).
    const lengths = new Set();
    for (const name of blobIds.keys())
        lengths.add(name.length);
    let previous = '';
    let updated = 0;
    for (let i = 0; i < offsets.length; i++) {
        const offset = offsets[i];
        let name;
        if (version === 4) {
            // Every path is needed for the next one, candidate or not.
            const kept = previous.length - drops[i];
            name = previous =
                previous.slice(0, kept) + data.toString('latin1', nameStarts[i], nameEnds[i]);
        }
        const mode = data.readUInt32BE(offset + MODE_OFFSET);
        if (!isCandidate(data, offset, flagsAt, version, mode))
            continue;
        if (!lengths.has(name?.length ?? nameEnds[i] - nameStarts[i]))
            continue;
        name ??= data.toString('latin1', nameStarts[i], nameEnds[i]);
        const id = blobIds.get(name);
        if (id === undefined || !idEquals(data, offset + STAT_LENGTH, hashLength, id))
            continue;
        let stat = fileStats;
        let at = recorded?.get(name);
        if (stat === undefined || at === undefined) {
            // A path of other bytes than ASCII is passed as those bytes: a string would be re-encoded.
            const file = NON_ASCII.test(name)
                ? Buffer.concat([Buffer.from(prefix), Buffer.from(name, 'latin1')])
                : prefix + name;
            if (!lstatInto(file, lstatFields))
                continue;
            stat = lstatFields;
            at = 0;
        }
        if (!matchesMode(stat[at + file_stats/* MODE_FIELD */.Vs], mode, format))
            continue;
        writeStat(data, offset, stat, at);
        updated++;
    }
    return { updated, stale: offsets.length - updated };
}
/**
 * Only stage-0 regular files and symlinks are compared with a blob id:
 * - a conflict stage (1-3) names no single file state; a snapshot never holds one;
 * - a gitlink (160000) is a submodule: git checks its HEAD, not stat data, and it has no blob;
 * - a sparse-directory entry (040000) is no file;
 * - skip-worktree: git does not look at the working-tree copy, which sparse checkout may have
 *   removed; claiming stat data for it would describe a file git has agreed to ignore;
 * - intent-to-add: the entry holds the empty blob as a placeholder, not the file's content;
 *   git reports such an entry as changed whatever its stat data says, and an empty file would
 *   otherwise "match" the placeholder.
 */
function isCandidate(data, offset, flagsAt, version, mode) {
    if (mode !== MODE_REGULAR && mode !== MODE_EXECUTABLE && mode !== MODE_SYMLINK)
        return false;
    const flags = data.readUInt16BE(offset + flagsAt);
    if (flags & FLAG_STAGE_MASK)
        return false;
    if (version >= 3 && flags & FLAG_EXTENDED) {
        const extended = data.readUInt16BE(offset + flagsAt + 2);
        if (extended & (EXTENDED_SKIP_WORKTREE | EXTENDED_INTENT_TO_ADD))
            return false;
    }
    return true;
}
/**
 * The checks git makes from lstat alone before it trusts stat data: a regular entry needs a
 * regular file whose owner-executable bit agrees (when core.filemode is on), a symlink entry a
 * symlink (or, with core.symlinks off, the plain file git checks such links out as).
 */
function matchesMode(statMode, entryMode, format) {
    const type = statMode & S_IFMT;
    if (entryMode === MODE_SYMLINK)
        return type === S_IFLNK || (!format.symlinks && type === S_IFREG);
    if (type !== S_IFREG)
        return false;
    if (!format.fileMode)
        return true;
    return (entryMode === MODE_EXECUTABLE) === ((statMode & S_IXUSR) !== 0);
}
/** Whether `hex` (lowercase) spells the `length` bytes at `at`, without making a string. */
function idEquals(data, at, length, hex) {
    if (hex.length !== 2 * length)
        return false;
    for (let i = 0; i < length; i++) {
        const byte = data[at + i];
        if (hex.charCodeAt(2 * i) !== HEX_DIGITS[byte >> 4])
            return false;
        if (hex.charCodeAt(2 * i + 1) !== HEX_DIGITS[byte & 15])
            return false;
    }
    return true;
}
/** Stores the file's lstat data in `into` (file-stats.ts); false when there is none. */
function lstatInto(file, into) {
    let stat;
    try {
        stat = external_node_fs_.lstatSync(file, { bigint: true, throwIfNoEntry: false });
    }
    catch {
        // ENOTDIR (a file where a directory should be), EACCES, ENAMETOOLONG: the entry stays
        // stale and git finds out what is there itself.
        return false;
    }
    if (stat === undefined)
        return false;
    (0,file_stats/* storeStat */.a6)(stat, into, 0);
    return true;
}
/** Writes the stat fields at `at` into the entry, all but the mode, which stays the entry's. */
function writeStat(data, offset, stat, at) {
    for (let field = 0; field < file_stats/* STAT_FIELDS */.vh; field++) {
        if (field !== file_stats/* MODE_FIELD */.Vs)
            data.writeUInt32BE(stat[at + field], offset + 4 * field);
    }
}
function isZero(data, start, end) {
    for (let i = start; i < end; i++)
        if (data[i] !== 0)
            return false;
    return true;
}
/**
 * Reads the three settings that decide how the index is read and what git compares, from the
 * repository's own config file. That is where git reads extensions.objectformat from (never
 * from global or included files). core.filemode and core.symlinks may also come from global
 * or included config; the defaults assumed here (both on, as git clone writes them on Linux)
 * are the strict reading: with either really off, an entry may stay stale that git would
 * have found clean, never the other way round.
 */
async function readRepositoryFormat(gitDir) {
    let text;
    try {
        text = await promises_.readFile(external_node_path_.join(gitDir, 'config'), 'latin1');
    }
    catch (error) {
        throw new Fallback(`cannot read the repository config: ${errorCode(error)}`);
    }
    const values = readConfigValues(text, [
        'extensions.objectformat',
        'core.filemode',
        'core.symlinks'
    ]);
    const objectFormat = (values.get('extensions.objectformat') ?? 'sha1').toLowerCase();
    if (objectFormat !== 'sha1' && objectFormat !== 'sha256') {
        throw new Fallback(`object format '${printable(objectFormat)}' is not handled`);
    }
    return {
        hashName: objectFormat,
        hashLength: objectFormat === 'sha1' ? 20 : 32,
        fileMode: configBoolean(values.get('core.filemode')),
        symlinks: configBoolean(values.get('core.symlinks'))
    };
}
/**
 * The last value of each wanted `section.key` (no subsection) in a git config file: sections
 * and keys are case-insensitive, a key alone means true, values may be quoted and end at an
 * unquoted # or ;, and a backslash at the end of a line continues it.
 */
function readConfigValues(text, wanted) {
    const values = new Map();
    const lines = text.replace(/\\\r?\n/g, '').split(/\r?\n/);
    let section = '';
    for (const raw of lines) {
        let line = raw.trim();
        const header = /^\[([^\]"\s]+)(?:\s+"(?:[^"\\]|\\.)*")?\]/.exec(line);
        if (header) {
            // A subsection ([remote "origin"]) never holds the keys we read; mark it unmatchable.
            section = header[0].includes('"') ? '"' : header[1].toLowerCase();
            line = line.slice(header[0].length).trim();
        }
        const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
        if (!entry)
            continue;
        const key = `${section}.${entry[1].toLowerCase()}`;
        if (wanted.includes(key))
            values.set(key, entry[2] === undefined ? 'true' : configValue(entry[2]));
    }
    return values;
}
function configValue(raw) {
    let value = '';
    let quoted = false;
    for (let i = 0; i < raw.length; i++) {
        const c = raw[i];
        if (c === '"')
            quoted = !quoted;
        else if (c === '\\' && i + 1 < raw.length)
            value += raw[++i];
        else if (!quoted && (c === '#' || c === ';'))
            break;
        else
            value += c;
    }
    return value.trim();
}
/** Git's boolean: false, no, off, 0 and empty are false; anything else (and unset) true. */
function configBoolean(value) {
    if (value === undefined)
        return true;
    return !['false', 'no', 'off', '0', ''].includes(value.trim().toLowerCase());
}
async function lstatOrUndefined(file) {
    try {
        return await promises_.lstat(file);
    }
    catch {
        return undefined;
    }
}
function errorCode(error) {
    const code = error?.code;
    return code ?? String(error);
}
function printable(text) {
    return text.replace(/[^\x20-\x7e]/g, '?');
}

;// CONCATENATED MODULE: ./src/git/lfs.ts
/**
 * Git LFS in the staged clone (lfs: true): git-lfs must be there before anything is
 * downloaded; after the workflow commit is checked out, the working tree gets the content of
 * every LFS file from the local objects (cachew's LFS snapshot), and git-lfs fetches the
 * objects the snapshot lacks: through cachew's git route first, then from the upstream host
 * with the token when cachew does not serve them.
 */



const INSTALL_GIT_LFS = 'install it on the runner (Debian/Ubuntu: sudo apt-get install -y git-lfs; macOS: brew install git-lfs; ' +
    'see https://git-lfs.com); GitHub-hosted runners have it';
/** Fails, before any request, when git-lfs is not installed. Returns its version line. */
async function requireGitLfs(cwd) {
    let output;
    try {
        output = await new Git(cwd).run(['lfs', 'version'], { okExitCodes: [1] });
    }
    catch (error) {
        if (error instanceof GitError)
            output = { exitCode: error.exitCode, stdout: '' };
        else
            throw error;
    }
    if (output.exitCode !== 0 || !output.stdout.startsWith('git-lfs/')) {
        throw new errors/* ExpectedError */.Dh(`Input 'lfs' is true, but git-lfs is not installed (git lfs version failed): ${INSTALL_GIT_LFS}. ` +
            'Or set lfs: false to keep the LFS pointer files.');
    }
    return output.stdout.trim();
}
/**
 * Installs git-lfs's filters and hooks in the clone (as actions/checkout does with lfs: true),
 * so later steps' git sees the files as clean and smudges on checkout; writes the content of
 * every LFS file from the local objects; fetches what is missing and writes those too.
 */
async function checkOutLfs(git, settings, commit, log) {
    await git.run(['lfs', 'install', '--local']);
    await git.run(['lfs', 'checkout']);
    let missing = await missingObjects(git);
    const files = missing.total;
    if (missing.paths.length === 0)
        return { files, fetched: 0 };
    log.info(`${missing.paths.length} LFS object(s) of ${commit} are not in the LFS snapshot; fetching them with git-lfs.`);
    const fetchedFrom = await fetchObjects(git, settings, commit, log);
    await git.run(['lfs', 'checkout']);
    const before = missing.paths.length;
    missing = await missingObjects(git);
    if (missing.paths.length > 0) {
        throw new errors/* ExpectedError */.Dh(`git-lfs fetched the LFS objects of ${commit}, but ${missing.paths.length} file(s) still have no content: ` +
            `${missing.paths.slice(0, 5).join(', ')}.`);
    }
    return { files, fetched: before, fetchedFrom };
}
/** Files whose working-tree copy is still a pointer (`-` in `git lfs ls-files`). */
async function missingObjects(git) {
    const listing = await git.read(['lfs', 'ls-files', '--long']);
    const paths = [];
    let total = 0;
    for (const line of listing.split('\n')) {
        const match = /^([0-9a-f]{64}) ([*-]) (.*)$/.exec(line);
        if (!match)
            continue;
        total++;
        if (match[2] === '-')
            paths.push(match[3]);
    }
    return { total, paths };
}
/**
 * `git lfs fetch origin <commit>`: origin is the upstream URL, so with git-through-cachew the
 * insteadOf rule sends git-lfs's batch request to cachew. When that fails (a cachew that serves
 * git's own protocol only answers 404), the upstream host is asked directly, with the token.
 */
async function fetchObjects(git, settings, commit, log) {
    const routes = settings.gitThroughCachew
        ? [
            { from: 'cachew', through: true },
            { from: 'upstream', through: false }
        ]
        : [{ from: 'upstream', through: false }];
    let last;
    for (const route of routes) {
        const config = route.through ? accessConfig(settings) : upstreamLfsConfig(settings);
        try {
            await git.run(['lfs', 'fetch', 'origin', commit], { config });
            log.info(`Fetched the missing LFS objects from ${route.from}.`);
            return route.from;
        }
        catch (error) {
            if (!(error instanceof GitError))
                throw error;
            last = error;
            const reason = lastLine(error.stderr) || error.message;
            if (route.from === 'cachew') {
                log.info(`cachew did not serve the LFS objects (${reason}); asking the upstream host.`);
            }
        }
    }
    throw new errors/* ExpectedError */.Dh(`git-lfs could not fetch the LFS objects of ${commit} that cachew's LFS snapshot lacks ` +
        `(${lastLine(last?.stderr ?? '') || last?.message}). Check that 'token' can read the repository's LFS objects ` +
        'upstream, or that cachew has an LFS snapshot of the commit.');
}
/**
 * Straight to the upstream host's LFS endpoint, with the token. The repository's own config
 * may include the access file that routes the host through cachew (persisted by an update in
 * place, or left by a job without its post step), and git-lfs rewrites even lfs.url by
 * insteadOf; git takes the longest matching prefix, so an identity rule for the endpoint wins.
 */
function upstreamLfsConfig(settings) {
    const endpoint = `${settings.repositoryUrl}.git/info/lfs`;
    return [
        ...accessConfig({ ...settings, gitThroughCachew: false }),
        { key: 'lfs.url', value: endpoint },
        { key: `url.${endpoint}.insteadOf`, value: endpoint }
    ];
}
function lastLine(text) {
    const lines = text
        .split('\n')
        .map(line => line.trim())
        .filter(Boolean);
    return lines[lines.length - 1] ?? '';
}

;// CONCATENATED MODULE: ./src/git/workflow-ref.ts
/**
 * Where the restored repository should end: the workflow's own commit (where actions/checkout
 * would leave it), a `ref` the user named, or the snapshot's head. Pure decisions, no git;
 * settings.ts makes them once, before the first request, and turns a refusal into an
 * InputError naming the input.
 */
function readWorkflowContext(env = process.env) {
    return {
        sha: env.GITHUB_SHA || undefined,
        ref: env.GITHUB_REF || undefined,
        eventName: env.GITHUB_EVENT_NAME || undefined,
        repository: env.GITHUB_REPOSITORY || undefined,
        serverUrl: env.GITHUB_SERVER_URL || undefined
    };
}
const FULL_SHA = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;
function isFullSha(value) {
    return FULL_SHA.test(value);
}
/**
 * Why `name` is not a ref name by git's rules (git check-ref-format), or undefined when it is
 * one. A leading dash is refused in every part too, so a name can never be taken for an
 * option on a git command line.
 */
function refNameProblem(name) {
    if (name === '' || name === '@')
        return 'it is not a name';
    if (name.startsWith('/'))
        return "it starts with '/'";
    if (hasControlOrSpace(name))
        return 'it contains a space or a control character';
    const forbidden = /[~^:?*[\\]/.exec(name);
    if (forbidden)
        return `it contains '${forbidden[0]}'`;
    for (const sequence of ['..', '@{', '//']) {
        if (name.includes(sequence))
            return `it contains '${sequence}'`;
    }
    if (name.endsWith('/') || name.endsWith('.'))
        return `it ends with '${name.slice(-1)}'`;
    for (const part of name.split('/')) {
        if (part.startsWith('.') || part.startsWith('-')) {
            return `a part of it starts with '${part[0]}'`;
        }
        if (part.endsWith('.lock'))
            return "a part of it ends with '.lock'";
    }
    return undefined;
}
function isValidRefName(name) {
    return refNameProblem(name) === undefined;
}
function hasControlOrSpace(text) {
    return [...text].some(char => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f);
}
/** Why the `ref` input can name nothing to check out, or undefined when it can. */
function refInputProblem(ref) {
    if (isFullSha(ref))
        return undefined;
    const problem = refNameProblem(ref);
    if (problem)
        return problem;
    // Namespaces, not refs: git keeps branches and tags under them.
    if (ref === 'refs/heads' || ref === 'refs/tags')
        return 'it names no branch or tag';
    return undefined;
}
/**
 * The `ref` input: a full SHA, refs/heads/…, refs/tags/…, any other refs/…, or a bare name;
 * undefined when it is none of them (refInputProblem says why).
 */
function destinationOfRefInput(ref) {
    if (isFullSha(ref))
        return { kind: 'commit', commit: ref.toLowerCase() };
    if (refInputProblem(ref))
        return undefined;
    if (ref.startsWith('refs/heads/'))
        return { kind: 'branch', branch: ref.slice('refs/heads/'.length) };
    if (ref.startsWith('refs/tags/'))
        return { kind: 'tag', tag: ref.slice('refs/tags/'.length) };
    if (ref.startsWith('refs/'))
        return { kind: 'detached-ref', ref };
    return { kind: 'branch-or-tag', name: ref };
}
/**
 * GITHUB_SHA with GITHUB_REF: a push to a branch stays on it; everything else detaches. Some
 * events give GITHUB_REF unqualified (a merged pull request's closed event gives `main`):
 * a branch, as actions/checkout takes it.
 */
function destinationOfWorkflow(sha, ref) {
    const commit = sha.toLowerCase();
    if (!ref || !isValidRefName(ref))
        return { kind: 'commit', commit };
    if (ref.startsWith('refs/heads/')) {
        return { kind: 'branch', branch: ref.slice('refs/heads/'.length), commit };
    }
    if (ref.startsWith('refs/tags/'))
        return { kind: 'tag', tag: ref.slice('refs/tags/'.length), commit };
    if (ref.startsWith('refs/'))
        return { kind: 'detached-ref', ref, commit };
    return { kind: 'branch', branch: ref, commit };
}
/**
 * GITHUB_SHA names a commit of the workflow's repository; restoring another repository must
 * not try to check it out (actions/checkout uses the default branch then, as we do).
 */
function isWorkflowRepository(repositoryUrl, workflow) {
    if (!workflow.repository)
        return true;
    const restored = new URL(repositoryUrl);
    const restoredName = restored.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
    if (restoredName.toLowerCase() !== workflow.repository.toLowerCase())
        return false;
    if (!workflow.serverUrl)
        return true;
    return new URL(workflow.serverUrl).host.toLowerCase() === restored.host.toLowerCase();
}
function describeDestination(destination) {
    switch (destination.kind) {
        case 'snapshot':
            return "the snapshot's head";
        case 'branch':
            return `branch ${destination.branch}${at(destination.commit)}`;
        case 'tag':
            return `tag ${destination.tag}${at(destination.commit)}`;
        case 'detached-ref':
            return `${destination.ref}${at(destination.commit)}`;
        case 'commit':
            return `commit ${destination.commit}`;
        case 'branch-or-tag':
            return `ref ${destination.name}`;
    }
}
function at(commit) {
    return commit ? ` at ${commit}` : '';
}

;// CONCATENATED MODULE: ./src/git/finish.ts
/**
 * The git half of a restore, run inside the staged clone before it is moved into place:
 * apply the delta bundle, make the destination commit local (ensure-refs + fetch through
 * cachew), check it out once, and leave a clean index whose stat data matches the files.
 * Any failure leaves only the staging directory changed.
 */











async function finishCheckout(options) {
    const { directory, settings, log } = options;
    const destination = settings.destination;
    const git = new Git(directory, accessSecrets(settings));
    // Extraction left every file's stat data stale. Making the index fresh first (from the ids
    // the extractor computed, else by git's rehash) lets the checkout below compare stat data
    // instead of file contents.
    const { stale } = await makeIndexFresh(directory, options.blobIds, log, options.fileStats);
    if (settings.sparseCheckout)
        await setSparseCheckout(git, settings.sparseCheckout, log);
    const start = await readStartingHead(git);
    const freshness = await applyOfferedBundle(git, options.bundle, start, log);
    const context = { git, settings, cachew: options.cachew, log };
    const { resolved, fetched } = await resolveDestination(context, destination, start, freshness);
    const changed = await checkOut(git, resolved, start);
    // After the commit's checkout (which leaves pointers: GIT_LFS_SKIP_SMUDGE), the pointers
    // get their content; git-lfs updates the index entries of the files it writes.
    const lfs = settings.lfs ? await checkOutLfs(git, settings, resolved.commit, log) : undefined;
    if (lfs) {
        const fetchedNote = lfs.fetched > 0 ? `, ${lfs.fetched} fetched from ${lfs.fetchedFrom}` : '';
        log.info(`Git LFS: ${lfs.files} file(s) with content${fetchedNote}.`);
    }
    // Only a checkout, or entries whose file did not match (filters, line endings), can leave
    // a difference for git to report; otherwise the index is fresh and git need not look.
    if (changed || stale > 0 || lfs)
        warnIfDirty(await refreshIndex(directory), log);
    // Last, in a clone whose index is settled: a submodule's checkout leaves its own index fresh
    // and changes no entry of the superproject's.
    await updateSubmodules(git, settings, log, options.submoduleSnapshots);
    log.info(`Checked out ${describeDestination(destination)}: ${resolved.ref} at ${resolved.commit}`);
    return {
        commit: resolved.commit,
        ref: resolved.ref,
        bundleApplied: freshness.bundle !== undefined,
        fetched,
        lfs
    };
}
/**
 * Writes the stat data of every index entry whose file the extractor verified (same blob id)
 * into .git/index, the extractor's own (`fileStats`) where it has it, else the file's lstat;
 * where nothing was verified, or the index is of a kind that writer does not handle, git
 * refreshes it instead, rehashing the tree. A stale index would cost more later: a forced
 * checkout rewrites every file whose stat data does not match. Returns how many entries are
 * still stale.
 */
async function makeIndexFresh(directory, blobIds, log, fileStats) {
    const written = blobIds.size > 0
        ? await writeIndexStat(directory, blobIds, fileStats)
        : { updated: 0, stale: 0, fallback: 'no file verified' };
    if (written.fallback === undefined) {
        log.debug(`Index: ${written.updated} entries verified, ${written.stale} left for git.`);
        return { stale: written.stale };
    }
    log.debug(`Index: ${written.fallback}; git refreshes it instead (rehashing the tree).`);
    return { stale: (await refreshIndex(directory)).length };
}
/**
 * Configures the sparse checkout with git's own command, so the clone ends exactly as
 * `git sparse-checkout set [--no-cone]` leaves it: core.sparseCheckout, core.sparseCheckoutCone,
 * .git/info/sparse-checkout in git's words, and skip-worktree on every index entry outside the
 * set. It runs after the index is fresh: the files the extraction wrote then match their
 * entries and stay untouched, the entries of files it left out are marked (their files are
 * already absent, which is what git wants of them), and a file the extraction wrote that git
 * excludes is removed. The checkout that follows then respects the set.
 *
 * Setting the bits without it (`update-index --skip-worktree --stdin` with the paths the
 * extraction skipped, the config and the patterns file written here) was measured on 40,020
 * files with 39,800 outside a one-directory cone, on tmpfs, median of 5: 0.16 s wall, 0.16 s
 * CPU, 3,700 minor faults for `sparse-checkout set`, against 0.04 s, 0.03 s and 2,200. The
 * 0.12 s buys a result that is git's by construction (its pattern file's words, its set even
 * where the extractor's matcher would differ) rather than a copy of git's rules to keep right.
 */
async function setSparseCheckout(git, sparse, log) {
    const mode = sparse.cone ? '--cone' : '--no-cone';
    await git.run(['sparse-checkout', 'set', mode, '--', ...sparse.patterns]);
    const patterns = `${sparse.patterns.length} pattern${sparse.patterns.length === 1 ? '' : 's'}`;
    log.info(`Sparse checkout: ${patterns}, ${sparse.cone ? 'cone mode' : 'no cone'}.`);
}
/**
 * After the staged children moved into an existing target, the top-level files among them
 * have a new ctime (a rename changes it; nothing deeper moved). Their stat data is written
 * again, so the next step's first git command does not rehash them. The extractor's ids cover
 * the files it wrote; a top-level file git's checkout wrote (changed or added by a commit
 * past the snapshot) is hashed here. Top-level files are few, and an entry whose content git
 * filters (LFS, line endings) hashes to another id and stays stale, for git to check.
 */
async function freshenMovedEntries(target, blobIds, log) {
    const topLevel = new Map([...blobIds].filter(([name]) => !name.includes('/')));
    for (const [name, id] of await hashTopLevelFiles(target, topLevel))
        topLevel.set(name, id);
    // No fileStats: the extractor's stat data is what the moves made stale; each file is
    // lstat'ed afresh.
    if (topLevel.size > 0)
        await makeIndexFresh(target, topLevel, log);
}
/** Blob ids of the target's top-level files and symlinks that `known` has no id for. */
async function hashTopLevelFiles(target, known) {
    const hasher = new git_blobs/* BlobHasher */.$j();
    hasher.format = (0,git_blobs/* objectFormatOf */.mS)(await promises_.readFile(external_node_path_.join(target, git_blobs/* REPOSITORY_CONFIG */.sH)).catch(() => Buffer.alloc(0)));
    const ids = new Map();
    for (const entry of await promises_.readdir(target, { withFileTypes: true, encoding: 'latin1' })) {
        const name = entry.name;
        if (known.has(name) || !(0,git_blobs/* isWorktreePath */.N5)(name))
            continue;
        if (!entry.isFile() && !entry.isSymbolicLink())
            continue;
        // The name's own bytes: a path string would not round-trip a name that is not UTF-8.
        const file = Buffer.concat([Buffer.from(`${target}${external_node_path_.sep}`), Buffer.from(name, 'latin1')]);
        const bytes = entry.isFile()
            ? await promises_.readFile(file)
            : Buffer.from(await promises_.readlink(file, { encoding: 'buffer' }));
        hasher.start(bytes.length);
        hasher.update(bytes);
        ids.set(name, hasher.digest());
    }
    return ids;
}
/**
 * HEAD's commit and branch, and the branch's upstream (refs/remotes/origin/<branch> in a
 * clone), in one git process: the upstream's commit is what the destination's checks ask of
 * it next, and each git process costs 12 to 17 ms. On a detached HEAD, or a branch without a
 * stored upstream, rev-parse refuses `@{upstream}` as a whole, and a second process asks
 * without it.
 */
async function readStartingHead(git) {
    const withUpstream = await git.run([
        'rev-parse',
        'HEAD^{commit}',
        'HEAD@{upstream}^{commit}',
        '--symbolic-full-name',
        'HEAD',
        'HEAD@{upstream}'
    ], { okExitCodes: [128] });
    if (withUpstream.exitCode === 0) {
        const [commit, upstreamCommit, name, upstreamRef] = withUpstream.stdout.split('\n');
        return {
            commit,
            branch: branchOf(name),
            upstream: { ref: upstreamRef, commit: upstreamCommit }
        };
    }
    const [commit, name] = (await git.read(['rev-parse', 'HEAD^{commit}', '--symbolic-full-name', 'HEAD'])).split('\n');
    return { commit, branch: branchOf(name) };
}
function branchOf(name) {
    return name?.startsWith('refs/heads/') ? name.slice('refs/heads/'.length) : undefined;
}
async function applyOfferedBundle(git, offer, start, log) {
    if (offer === 'none' || offer === 'disabled')
        return { fetchInstead: false };
    if (offer === 'up-to-date') {
        log.info('cachew reports the snapshot is current: no bundle to apply');
        return { fetchInstead: false };
    }
    if (offer === 'unavailable') {
        log.warning('cachew could not provide the delta bundle; fetching instead');
        return { fetchInstead: true };
    }
    try {
        const applied = await applyBundle(git, offer.file, start.branch);
        log.info(`Applied the delta bundle: origin/${applied.branch} is now ${applied.commit}`);
        return { bundle: applied, fetchInstead: false };
    }
    catch (error) {
        if (!(error instanceof BundleError))
            throw error;
        log.warning(`Could not apply the delta bundle (${error.message}); fetching instead`);
        return { fetchInstead: true };
    }
}
/**
 * One checkout to the destination, from HEAD as it is (`head`). A branch is (re)created at the
 * commit and set to track origin's branch, as actions/checkout does with `checkout -B`;
 * anything else is detached. Returns whether the tree changed.
 */
async function checkOut(git, resolved, head, tracking = 'fresh-clone') {
    if (resolved.branch) {
        const moved = head.branch !== resolved.branch || head.commit !== resolved.commit;
        if (moved) {
            await git.run(['checkout', '--quiet', '--force', '-B', resolved.branch, resolved.commit]);
        }
        // A fresh clone already tracks origin's branch for the branch it checked out.
        if (tracking === 'unknown' || head.branch !== resolved.branch) {
            await trackOrigin(git, resolved.branch);
        }
        return moved;
    }
    if (head.branch !== undefined || head.commit !== resolved.commit) {
        await git.run(['checkout', '--quiet', '--force', '--detach', resolved.commit]);
        return head.commit !== resolved.commit;
    }
    return false;
}
async function trackOrigin(git, branch) {
    const remoteRef = `refs/remotes/origin/${branch}`;
    if (!(await git.test(['show-ref', '--verify', '--quiet', remoteRef])))
        return;
    await git.run(['branch', '--quiet', `--set-upstream-to=origin/${branch}`, branch]);
}
/**
 * Brings the index's stat data in line with the files on disk, so the next git command does
 * not rehash the whole tree. Cheap when already fresh (one lstat per file); the lead may call
 * it again after moving the repository into place. Returns the tracked paths whose content
 * differs from the index (none after a clean checkout). `git` runs it (the in-place update
 * passes its own, with the checkout's hooks and fsmonitor off).
 */
async function refreshIndex(directory, git = new Git(directory)) {
    // Without -q git still refreshes and writes every other entry, and names the ones that
    // differ: the refresh and the cleanliness check in one pass over the tree.
    const result = await git.run(['update-index', '--refresh'], { okExitCodes: [1] });
    return result.stdout
        .split('\n')
        .filter(line => line.trim() !== '')
        .map(line => line.replace(/: needs \w+$/, ''));
}
function warnIfDirty(differing, log) {
    if (differing.length === 0)
        return;
    const examples = differing.slice(0, 5).join(', ');
    log.warning(`${differing.length} tracked file(s) differ from the commit after checkout (${examples}); ` +
        'line-ending or filter attributes in the repository?');
}

;// CONCATENATED MODULE: ./src/git/submodule-urls.ts
/**
 * What git decides about a submodule before it clones one, as pure functions: the URL a
 * `.gitmodules` entry names (a relative one resolved against the superproject's remote), and
 * whether a name and a path are safe to use as directories. The snapshot restore of a
 * submodule (./submodules.ts) must arrive where `git submodule update --init` would, and refuse
 * what git refuses; anything these cannot decide goes to git itself.
 */
/**
 * A submodule's URL as `git submodule init` resolves it: a URL starting with `./` or `../` is
 * relative to the superproject's remote URL (each `../` drops one path component of it, `./`
 * none), anything else is taken as it is. Undefined when a relative URL cannot be resolved
 * here to a URL with a repository path: a base that is not plain http(s) (scp-like, with
 * credentials, a query), or more `../` than the base has path components.
 */
function resolveSubmoduleUrl(baseUrl, url) {
    if (!url.startsWith('./') && !url.startsWith('../'))
        return url;
    const base = plainHttpUrl(baseUrl);
    if (!base)
        return undefined;
    let basePath = base.pathname.replace(/\/+$/, '');
    let rest = url;
    for (;;) {
        if (rest.startsWith('./')) {
            rest = rest.slice(2);
        }
        else if (rest.startsWith('../')) {
            const cut = basePath.lastIndexOf('/');
            if (cut < 0)
                return undefined;
            basePath = basePath.slice(0, cut);
            rest = rest.slice(3);
        }
        else {
            break;
        }
    }
    if (rest === '' || rest === '.' || rest === '..')
        return undefined;
    return `${base.origin}${basePath}/${rest}`;
}
/** An http(s) URL with a host and nothing git would keep beyond origin and path. */
function plainHttpUrl(text) {
    let url;
    try {
        url = new URL(text);
    }
    catch {
        return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
        return undefined;
    if (!url.host || url.username || url.password || url.search || url.hash)
        return undefined;
    return url;
}
/**
 * git refuses a submodule name that is empty, absolute, or has a `..` component (either slash
 * separates), since the name becomes the directory .git/modules/NAME.
 */
function isSafeSubmoduleName(name) {
    if (name === '' || name.startsWith('/') || name.startsWith('\\'))
        return false;
    return !name.split(/[/\\]/).includes('..');
}
/**
 * A path inside the working tree that is not git's own: relative, with no empty, `.` or `..`
 * component and no component named .git (in any case, as on a case-insensitive disk).
 */
function isSafeSubmodulePath(relative) {
    if (relative === '' || relative.startsWith('/') || relative.includes('\\'))
        return false;
    return relative
        .split('/')
        .every(part => part !== '' && part !== '.' && part !== '..' && part.toLowerCase() !== '.git');
}

;// CONCATENATED MODULE: ./src/git/submodules.ts
/**
 * submodules: true|recursive. After the superproject's commit is checked out, each submodule
 * of `.gitmodules` whose gitlink is in the commit is restored from its own cachew snapshot
 * when the restore offers them (SubmoduleSnapshots): the snapshot is extracted into a temp
 * directory, brought to the gitlink's commit there (ensure-refs and a fetch through cachew when
 * the snapshot lacks it, as for the superproject), then moved into place in the layout
 * `git submodule update --init` leaves: the working tree at the submodule's path, its git dir
 * absorbed at .git/modules/NAME with a relative core.worktree, a `.git` file pointing there by a
 * relative path, and submodule.NAME.active and .url in the superproject's config. With
 * recursive, the same follows inside each restored submodule.
 *
 * Every other submodule (cachew has no snapshot of it, its restore failed, its URL is not on the
 * superproject's https host, or the restore offers no snapshots: an update in place) is checked
 * out as actions/checkout does, by `git submodule sync` and `git submodule update --init
 * --force` (`--recursive`). git resolves a relative URL against origin's URL, which is still
 * the https upstream here (the snapshot's clone keeps it; setOrigin runs later), and the
 * fetches go through cachew by the same insteadOf route and credentials as the superproject's,
 * passed through the environment so every nested git inherits them.
 */










/**
 * Checks out the submodules the settings ask for, in the repository `git` runs in; undefined
 * with submodules: false or when the commit has no .gitmodules. Without `snapshots` (an update
 * in place), every submodule takes git's route.
 */
async function updateSubmodules(git, settings, log, snapshots) {
    if (settings.submodules === 'false')
        return undefined;
    if (!(await hasGitmodules(git.directory)))
        return undefined;
    const recursive = settings.submodules === 'recursive';
    const via = settings.gitThroughCachew ? 'through cachew' : 'from upstream';
    const run = new SubmoduleRun(settings, log, snapshots);
    if (snapshots) {
        log.info(`Checking out submodules${recursive ? ' recursively' : ''}: from their cachew snapshots, else ${via}`);
        const originUrl = (await originOf(git)) ?? settings.repositoryUrl;
        await run.checkOutIn(git, {
            worktree: git.directory,
            gitDir: external_node_path_.join(git.directory, '.git'),
            originUrl,
            prefix: ''
        });
    }
    else {
        log.info(`Checking out submodules${recursive ? ' recursively' : ''} ${via}`);
        await run.gitRoute(git, []);
    }
    const status = await git.read(['submodule', 'status', ...(recursive ? ['--recursive'] : [])]);
    // '-': not initialised, as git leaves one with update = none or outside a sparse checkout.
    const count = status
        .split('\n')
        .filter(line => line.trim() !== '' && !line.startsWith('-')).length;
    const restored = run.restored > 0 ? ` (${run.restored} from cachew snapshots)` : '';
    log.info(`Submodules: ${count} checked out${restored}.`);
    return { count, fromSnapshot: run.restored };
}
class SubmoduleRun {
    settings;
    log;
    snapshots;
    restored = 0;
    /**
     * Placements one at a time: each writes the containing repository's config, and two git
     * processes writing one config at once would fail on its lock.
     */
    placing = Promise.resolve();
    recursive;
    via;
    constructor(settings, log, snapshots) {
        this.settings = settings;
        this.log = log;
        this.snapshots = snapshots;
        this.recursive = settings.submodules === 'recursive';
        this.via = settings.gitThroughCachew ? 'through cachew' : 'from upstream';
    }
    /**
     * The submodules of one repository: from snapshots, several at once, then git's route for
     * the rest, then (recursive) the same inside each restored one, one after another so that no
     * more than `parallel` snapshots download at once.
     */
    async checkOutIn(git, container) {
        const snapshots = this.snapshots;
        const submodules = await listSubmodules(git);
        const byGit = [];
        const restored = [];
        await eachLimited(submodules, snapshots.parallel, async (submodule) => {
            const shown = container.prefix + submodule.path;
            if (submodule.leftAlone) {
                byGit.push(submodule.path);
                return;
            }
            const url = this.snapshotUrlFor(container, submodule);
            if (url.reason !== undefined) {
                this.log.notice(`Submodule ${shown}: ${url.reason}; checking it out with git submodule update --init ${this.via}.`);
                byGit.push(submodule.path);
                return;
            }
            try {
                restored.push(await this.restoreFromSnapshot(container, submodule, url.url, snapshots));
                this.restored++;
            }
            catch (error) {
                if (cancellation/* jobCancelled */.XE.aborted)
                    throw cancellation/* jobCancelled */.XE.reason;
                if (error instanceof HalfRestoredError)
                    throw error;
                const reason = error instanceof errors/* CacheMissError */.dE
                    ? 'cachew has no snapshot of it (HTTP 404)'
                    : `its snapshot could not be restored (${error.message})`;
                this.log.notice(`Submodule ${shown}: ${reason}; checking it out with git submodule update --init ${this.via}.`);
                byGit.push(submodule.path);
            }
        });
        if (byGit.length > 0)
            await this.gitRoute(git, byGit.sort());
        if (!this.recursive)
            return;
        for (const inner of restored.sort((a, b) => a.prefix.localeCompare(b.prefix))) {
            const innerGit = new Git(inner.worktree, accessSecrets(this.settings), {
                signal: git.signal
            });
            if (await hasGitmodules(inner.worktree))
                await this.checkOutIn(innerGit, inner);
        }
    }
    /** The https URL to ask cachew for, or why this submodule goes to git instead. */
    snapshotUrlFor(container, submodule) {
        if (!isSafeSubmoduleName(submodule.name) || !isSafeSubmodulePath(submodule.path)) {
            return { reason: 'its name or path is not one to restore into' };
        }
        const resolved = resolveSubmoduleUrl(container.originUrl, submodule.url);
        const url = resolved === undefined ? undefined : plainHttpUrl(resolved);
        if (resolved === undefined || url === undefined) {
            return { reason: `its URL (${submodule.url}) is not an https repository URL` };
        }
        // The credentials and the insteadOf route are the superproject's host's only.
        if (url.origin !== new URL(this.settings.repositoryUrl).origin) {
            return { reason: `it is on another host than the superproject (${url.host})` };
        }
        return { url: resolved };
    }
    /**
     * Restores one submodule from its snapshot, or throws with nothing of it left: the temp
     * directory goes on every path, and what was moved into place is taken out again
     * (HalfRestoredError when even that fails).
     */
    async restoreFromSnapshot(container, submodule, url, snapshots) {
        const worktree = external_node_path_.join(container.worktree, submodule.path);
        const gitDir = external_node_path_.join(container.gitDir, 'modules', submodule.name);
        await requireFreshPlace(worktree, gitDir);
        const shown = container.prefix + submodule.path;
        const stage = await snapshots.stagingDirectory();
        try {
            this.log.info(`Submodule ${shown}: restoring ${url} from its cachew snapshot.`);
            const blobIds = await snapshots.extract(url, stage);
            const stagedGit = external_node_path_.join(stage, '.git');
            if (!(await promises_.lstat(stagedGit).catch(() => undefined))?.isDirectory()) {
                throw new errors/* ExpectedError */.Dh('the snapshot has no .git directory');
            }
            await this.bringToCommit(stage, blobIds, submodule, url, snapshots.cachew(url));
            const placed = this.placing.then(() => placeSubmodule({ stage, worktree, gitDir, container, name: submodule.name, url }));
            this.placing = placed.catch(() => undefined);
            await placed;
            this.log.info(`Submodule ${shown}: at ${submodule.commit}.`);
            return { worktree, gitDir, originUrl: url, prefix: `${shown}/` };
        }
        finally {
            await promises_.rm(stage, { recursive: true, force: true });
        }
    }
    /**
     * In the staged clone: a fresh index from the extraction's blob ids, the gitlink's commit
     * made local (ensure-refs and a fetch through cachew when the snapshot lacks it) and checked
     * out detached, as `git submodule update` leaves it; origin named as .gitmodules resolves.
     */
    async bringToCommit(stage, blobIds, submodule, url, cachew) {
        const git = new Git(stage, accessSecrets(this.settings));
        const { stale } = await makeIndexFresh(stage, blobIds, this.log);
        const start = await readStartingHead(git);
        const settings = { ...this.settings, repositoryUrl: url };
        const context = { git, settings, cachew, log: this.log };
        const { resolved } = await resolveDestination(context, { kind: 'commit', commit: submodule.commit }, start, { fetchInstead: false });
        const changed = await checkOut(git, resolved, start);
        if (changed || stale > 0)
            warnIfDirty(await refreshIndex(stage, git), this.log);
        await git.run(['config', 'remote.origin.url', url]);
    }
    /** git's own route, for `paths` of the repository `git` runs in (all of them when empty). */
    async gitRoute(git, paths) {
        const recursive = this.recursive ? ['--recursive'] : [];
        const only = paths.length > 0 ? ['--', ...paths] : [];
        const config = accessConfig(this.settings);
        // sync matters for an update in place, where .gitmodules may name a new URL since an
        // earlier job initialised the submodule; on a fresh clone it has nothing to do.
        await git.run(['submodule', 'sync', '--quiet', ...recursive, ...only], { config });
        // git itself tries a failed submodule clone once more at the end of the update (2.39, as
        // tested here), but not a failed fetch into one it has; the update is retried as a whole
        // under the fetches' policy when it failed anyway, and then clones or fetches only what is
        // still missing.
        await withRetries(`git submodule update ${this.via}`, () => git.run(['submodule', 'update', '--init', '--force', '--quiet', ...recursive, ...only], {
            config
        }), { log: this.log, signal: git.signal });
    }
}
/** Moving a submodule into place failed, and so did taking it out again: not a fallback case. */
class HalfRestoredError extends errors/* ExpectedError */.Dh {
    name = 'HalfRestoredError';
}
/**
 * The submodules of the repository `git` runs in: the entries of its `.gitmodules` (as in the
 * working tree, which the checkout just wrote) whose path is a gitlink in the index (at HEAD),
 * by path; those with `update = none` or outside a sparse checkout marked as git leaves them.
 */
async function listSubmodules(git) {
    const read = await git.run([
        'config',
        '--file',
        '.gitmodules',
        '-z',
        '--get-regexp',
        '^submodule\\..*\\.(path|url|update)$'
    ], { okExitCodes: [1] });
    const entries = new Map();
    for (const record of read.stdout.split('\0')) {
        const newline = record.indexOf('\n');
        if (newline < 0)
            continue;
        const key = record.slice(0, newline);
        const value = record.slice(newline + 1);
        const dot = key.lastIndexOf('.');
        const name = key.slice('submodule.'.length, dot);
        const variable = key.slice(dot + 1);
        const entry = entries.get(name) ?? {};
        entry[variable] = value;
        entries.set(name, entry);
    }
    const byPath = new Map();
    for (const [name, entry] of entries) {
        if (entry.path === undefined || byPath.has(entry.path))
            continue;
        const leftAlone = entry.update === 'none' ? 'update = none' : undefined;
        byPath.set(entry.path, { name, url: entry.url ?? '', ...(leftAlone && { leftAlone }) });
    }
    if (byPath.size === 0)
        return [];
    // The index, just checked out at HEAD, rather than the tree: it also says which gitlinks a
    // sparse checkout leaves out (skip-worktree, tag S).
    const index = await git.read([
        '--literal-pathspecs',
        'ls-files',
        '-z',
        '--stage',
        '-t',
        '--',
        ...byPath.keys()
    ]);
    const submodules = [];
    for (const line of index.split('\0')) {
        const match = /^([HS]) 160000 ([0-9a-f]{40,64}) 0\t(.+)$/s.exec(line);
        const known = match && byPath.get(match[3]);
        if (!match || !known)
            continue;
        const sparse = match[1] === 'S' && !known.leftAlone ? { leftAlone: 'sparse' } : {};
        submodules.push({ ...known, ...sparse, path: match[3], commit: match[2] });
    }
    return submodules.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
/** A submodule is only restored where nothing is yet: an empty (or absent) path, no git dir. */
async function requireFreshPlace(worktree, gitDir) {
    if (await promises_.lstat(gitDir).catch(() => undefined)) {
        throw new errors/* ExpectedError */.Dh(`its git directory ${gitDir} exists already`);
    }
    const stat = await promises_.lstat(worktree).catch(() => undefined);
    if (!stat)
        return;
    if (!stat.isDirectory() || (await promises_.readdir(worktree)).length > 0) {
        throw new errors/* ExpectedError */.Dh('its path is not an empty directory');
    }
}
/**
 * Moves the staged clone into place as `git submodule update --init` lays a submodule out. The
 * whole staged directory is renamed onto the submodule's path in one step, so no file's ctime
 * changes and the index stays fresh; then its .git goes to the absorbed git dir. A failure
 * takes out what was moved and leaves the empty directory the checkout had made.
 */
async function placeSubmodule(placement) {
    const { stage, worktree, gitDir, container, name, url } = placement;
    const containerConfig = external_node_path_.join(container.gitDir, 'config');
    const git = new Git(container.worktree);
    // Taking it out again must finish even when the job's cancellation is what stopped it.
    const undoGit = new Git(container.worktree, [], { uncancellable: true });
    try {
        await promises_.mkdir(external_node_path_.dirname(worktree), { recursive: true });
        await promises_.rmdir(worktree).catch((error) => {
            if (error.code !== 'ENOENT')
                throw error;
        });
        await promises_.rename(stage, worktree);
        await promises_.mkdir(external_node_path_.dirname(gitDir), { recursive: true });
        await promises_.rename(external_node_path_.join(worktree, '.git'), gitDir);
        await promises_.writeFile(external_node_path_.join(worktree, '.git'), `gitdir: ${posixRelative(worktree, gitDir)}\n`, { flag: 'wx' });
        await git.run([
            'config',
            '--file',
            external_node_path_.join(gitDir, 'config'),
            'core.worktree',
            posixRelative(gitDir, worktree)
        ]);
        await git.run(['config', '--file', containerConfig, `submodule.${name}.active`, 'true']);
        await git.run(['config', '--file', containerConfig, `submodule.${name}.url`, url]);
    }
    catch (error) {
        try {
            await promises_.rm(gitDir, { recursive: true, force: true });
            await promises_.rm(worktree, { recursive: true, force: true });
            await promises_.mkdir(worktree, { recursive: true });
            await undoGit.run(['config', '--file', containerConfig, '--remove-section', `submodule.${name}`], { okExitCodes: [128] });
        }
        catch (undo) {
            throw new HalfRestoredError(`Could not take the partly restored submodule at ${worktree} out again (${undo.message}) after: ${error.message}`);
        }
        throw error;
    }
}
/** A relative path with forward slashes, as git writes them into gitdir: and core.worktree. */
function posixRelative(from, to) {
    return external_node_path_.relative(from, to).split(external_node_path_.sep).join('/');
}
/**
 * Runs `work` on every item, at most `limit` at once. After the first failure no new item
 * starts; the ones running finish, and that failure is thrown.
 */
async function eachLimited(items, limit, work) {
    let next = 0;
    let failure;
    const worker = async () => {
        while (!failure && next < items.length) {
            const item = items[next++];
            try {
                await work(item);
            }
            catch (error) {
                failure ??= { error };
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    if (failure)
        throw failure.error;
}
async function originOf(git) {
    const read = await git.run(['config', '--get', 'remote.origin.url'], { okExitCodes: [1] });
    return read.stdout.trim() || undefined;
}
async function hasGitmodules(directory) {
    try {
        return (await promises_.lstat(external_node_path_.join(directory, '.gitmodules'))).isFile();
    }
    catch {
        return false;
    }
}

;// CONCATENATED MODULE: ./src/git/in-place-undo.ts
/**
 * Putting a checkout back as the job found it when updating it in place fails after the tree
 * started to change, so that the snapshot restore that follows (which touches the target only
 * once it has succeeded) leaves it as it was should it fail too.
 *
 * Recorded before anything changes: where HEAD was (the commit, and the branch it was on), a
 * copy of the index, and the branch the checkout moves (its ref and upstream configuration).
 * Then everything the update would delete or overwrite is moved aside, by rename, into a
 * directory in .git: the untracked and ignored entries `git clean -ffdx` would remove (with
 * `clean: false`, only those in the way of a path the destination tracks, which the forced
 * checkout would replace), and the tracked files whose content differs from the index, which
 * the forced checkout would overwrite. The renames cost nothing on success (the entries moved
 * aside are deleted then, as clean and the checkout would have deleted them) and make the way
 * back exact for a dirty checkout too.
 *
 * Putting back, in this order: the index copy, HEAD and the branch; the files the failed
 * update wrote that the old index does not track are removed (cleaned, or with `clean: false`
 * removed where the update could write them); the tracked files that differ from the old
 * index are checked out from it; what was moved aside comes back. What the fetch added
 * (objects, remote-tracking refs) stays, as after any fetch.
 */




/** `<target>/.git/<prefix><pid>-XXXXXX`: the pid lets the next run remove a killed run's one. */
const UNDO_PREFIX = 'cachew-in-place-undo-';
/** checkout-index takes paths as arguments: this many at a time stays far below ARG_MAX. */
const PATHS_PER_COMMAND = 500;
class InPlaceUndo {
    git;
    target;
    directory;
    head;
    hadIndex;
    branch;
    options;
    /** Paths (relative, '/'-separated) moved into `tree/`, in the order they were moved. */
    aside = [];
    /** Tracked paths that were missing: the topmost part of each that was not a directory. */
    missing = [];
    /**
     * keepUntracked: where the update may write what the old index does not track (the path
     * new to the index, or the topmost directory made for it); putting back removes these.
     */
    written = new Set();
    /** Set once everything is moved aside: from then on git may have changed index and tree. */
    updating = false;
    /** Set once putting back has restored the index, HEAD and the branch. */
    refsRestored = false;
    constructor(git, target, 
    /** The undo directory inside .git. */
    directory, head, hadIndex, branch, options) {
        this.git = git;
        this.target = target;
        this.directory = directory;
        this.head = head;
        this.hadIndex = hadIndex;
        this.branch = branch;
        this.options = options;
    }
    /**
     * Records what putting back needs, changing nothing. `git` must run in the target and should
     * not be cancellable: putting back has to finish even when a cancellation made it necessary.
     */
    static async record(git, target, options) {
        const gitDir = external_node_path_.join(target, '.git');
        // A run that was killed midway left its undo directory; its checkout is updated anyway.
        await sweepLeftovers(gitDir, [UNDO_PREFIX]);
        const head = await recordHead(git);
        const branch = options.branch ? await recordBranch(git, options.branch) : undefined;
        const directory = await makeWorkDirectory(gitDir, UNDO_PREFIX);
        try {
            const hadIndex = await copyIfExists(external_node_path_.join(gitDir, 'index'), external_node_path_.join(directory, 'index'));
            return new InPlaceUndo(git, target, directory, head, hadIndex, branch, options);
        }
        catch (error) {
            await promises_.rm(directory, { recursive: true, force: true });
            throw error;
        }
    }
    /** Where HEAD was, for the log: "a1b2c3… on main" or "a1b2c3… (detached)". */
    describeHead() {
        return describeHead(this.head.commit, this.head.symref);
    }
    /**
     * Moves aside every untracked or ignored entry and every tracked file that differs from the
     * index (RUNNER_TEMP, when inside the target, excepted). The tree starts to change here.
     */
    async setAside() {
        const { changed, untracked } = await this.listChanges(true);
        const others = this.options.keepUntracked
            ? await this.inTheWay(untracked)
            : await this.aroundTempDir(untracked);
        const candidates = [...new Set([...changed, ...others])];
        const present = [];
        for (const relative of candidates) {
            const top = await this.topNotDirectory(relative);
            if (top === relative && (await in_place_undo_exists(this.absolute(relative))))
                present.push(relative);
            else if (!this.missing.includes(top))
                this.missing.push(top);
        }
        for (const relative of present)
            await this.moveAside(relative);
        this.updating = true;
    }
    /**
     * Puts the checkout back as it was recorded. Never throws: a failure is returned with the
     * state the target is left in, and the entries still set aside stay in the undo directory.
     */
    async putBack() {
        try {
            if (this.updating) {
                await this.restoreGitState();
                for (const relative of this.missing)
                    await removeEntry(this.absolute(relative));
            }
            for (const relative of [...this.aside]) {
                const original = this.absolute(relative);
                await removeEntry(original);
                await promises_.mkdir(external_node_path_.dirname(original), { recursive: true });
                await promises_.rename(this.asidePath(relative), original);
                this.aside.shift();
            }
            if (this.updating) {
                await this.git.run(['update-index', '-q', '--refresh'], { okExitCodes: [1] });
            }
            await promises_.rm(this.directory, { recursive: true, force: true });
            return { done: true };
        }
        catch (error) {
            return { done: false, reason: reasonOf(error), state: await this.describeState() };
        }
    }
    /** After a successful update: deletes what was set aside (what clean would have deleted). */
    async discard() {
        await promises_.rm(this.directory, { recursive: true, force: true });
    }
    // -------------------------------------------------------------- recording
    /**
     * Tracked paths whose file differs from the index (in content: a file whose stat data alone
     * is stale does not count), is missing or is of another type, submodules aside; with
     * `others`, also what `git clean -ffdx` would remove: untracked and ignored entries, a whole
     * untracked directory (a nested repository included) as one. One pass over the tree,
     * measured on 36,000 files in tmpfs: 0.10 s against 0.19 s for refresh, diff-files and
     * ls-files --others one after another.
     */
    async listChanges(others) {
        const which = others ? ['--others', '--directory'] : [];
        const output = await this.git.run(['ls-files', '-z', '-t', '--modified', '--deleted', ...which]);
        const changed = new Set();
        const untracked = [];
        for (const record of output.stdout.split('\0')) {
            if (record === '')
                continue;
            // A status letter and a space, then the path: '?' untracked, 'C' changed, 'R' removed.
            const entry = record.slice(2);
            if (record.startsWith('? '))
                untracked.push(entry.replace(/\/$/, ''));
            else
                changed.add(entry);
        }
        return { changed: await this.withoutSubmodules([...changed]), untracked };
    }
    /**
     * A checked-out submodule at another commit counts as changed; the forced checkout leaves it
     * alone, and so does setting aside. Only a directory can be one, so only those are looked up.
     */
    async withoutSubmodules(paths) {
        const directories = [];
        for (const relative of paths) {
            if ((await in_place_undo_lstatOrUndefined(this.absolute(relative)))?.isDirectory())
                directories.push(relative);
        }
        if (directories.length === 0)
            return paths;
        const staged = await this.git.run([
            '--literal-pathspecs',
            'ls-files',
            '-z',
            '-s',
            '--',
            ...directories
        ]);
        const submodules = new Set(staged.stdout
            .split('\0')
            .filter(line => line.startsWith('160000 '))
            .map(line => line.slice(line.indexOf('\t') + 1)));
        return paths.filter(relative => !submodules.has(relative));
    }
    /**
     * keepUntracked: the untracked and ignored entries (as listChanges gives them, a wholly
     * untracked directory as one) that the forced checkout to the destination would replace.
     * Only a path new to the index can meet one, where git must write it: the entry at that
     * path; a file where git needs a directory on the way to it; or, where git needs a file and
     * finds a directory, whatever untracked is inside. Measured with git 2.39: `checkout
     * --force` replaces all three, and leaves every other untracked entry alone, in the
     * directories it writes into too. Records in `written` what putting back must remove.
     */
    async inTheWay(untracked) {
        const entries = new Set(untracked);
        const isUntracked = (relative) => {
            const parts = relative.split('/');
            return parts.some((_, i) => entries.has(parts.slice(0, i + 1).join('/')));
        };
        const keep = relativeInside(this.target, this.options.tempDir);
        const inKeep = (relative) => keep !== undefined && (relative === keep || relative.startsWith(`${keep}/`));
        const found = new Set();
        for (const { relative, directory } of await this.pathsNewToIndex()) {
            if (inKeep(relative))
                continue;
            const parts = relative.split('/');
            for (let i = 1; i <= parts.length; i++) {
                const at = parts.slice(0, i).join('/');
                // A gitlink is checked out as a directory, as is every part on the way to a path.
                const needsDirectory = i < parts.length || directory;
                const stat = await in_place_undo_lstatOrUndefined(this.absolute(at));
                if (!stat) {
                    this.written.add(at);
                    break;
                }
                if (needsDirectory) {
                    if (stat.isDirectory())
                        continue;
                    if (isUntracked(at))
                        found.add(at);
                    this.written.add(at);
                    break;
                }
                if (stat.isDirectory()) {
                    if (entries.has(at))
                        found.add(at);
                    for (const entry of untracked)
                        if (entry.startsWith(`${at}/`))
                            found.add(entry);
                }
                else if (isUntracked(at)) {
                    found.add(at);
                }
                this.written.add(at);
            }
        }
        return [...found].filter(relative => !inKeep(relative));
    }
    /** Paths the destination tracks that the index does not: where the update writes anew. */
    async pathsNewToIndex() {
        const output = await this.git.run([
            'diff-index',
            '--cached',
            '-z',
            '--raw',
            '--no-renames',
            '--diff-filter=D',
            this.options.destination
        ]);
        const fields = output.stdout.split('\0');
        const paths = [];
        // Pairs: ':MODE MODE SHA SHA D', then the path; a gitlink has mode 160000.
        for (let i = 0; i + 1 < fields.length; i += 2) {
            if (!fields[i].startsWith(':'))
                continue;
            paths.push({ relative: fields[i + 1], directory: fields[i].startsWith(':160000 ') });
        }
        return paths;
    }
    /**
     * RUNNER_TEMP inside the target is kept: the untracked directories on the way to it are
     * listed entry by entry instead.
     */
    async aroundTempDir(untracked) {
        const keep = relativeInside(this.target, this.options.tempDir);
        if (keep === undefined)
            return untracked;
        const paths = [];
        for (const relative of untracked)
            await this.collectAround(relative, keep, paths);
        return paths;
    }
    async collectAround(relative, keep, into) {
        if (relative === keep || relative.startsWith(`${keep}/`))
            return;
        if (!keep.startsWith(`${relative}/`)) {
            into.push(relative);
            return;
        }
        for (const name of await promises_.readdir(this.absolute(relative))) {
            await this.collectAround(`${relative}/${name}`, keep, into);
        }
    }
    /**
     * The first part of `relative` that is not a directory on disk: the path itself when its
     * parents all are (it exists or not), else the parent that is missing or is a file.
     */
    async topNotDirectory(relative) {
        const parts = relative.split('/');
        for (let i = 1; i < parts.length; i++) {
            const prefix = parts.slice(0, i).join('/');
            const stat = await in_place_undo_lstatOrUndefined(this.absolute(prefix));
            if (!stat?.isDirectory())
                return prefix;
        }
        return relative;
    }
    async moveAside(relative) {
        const aside = this.asidePath(relative);
        await promises_.mkdir(external_node_path_.dirname(aside), { recursive: true });
        await promises_.rename(this.absolute(relative), aside);
        this.aside.push(relative);
    }
    // -------------------------------------------------------------- putting back
    /** Index, HEAD and branch as recorded; then the tracked files as that index has them. */
    async restoreGitState() {
        const index = external_node_path_.join(this.target, '.git', 'index');
        if (this.hadIndex)
            await promises_.rename(external_node_path_.join(this.directory, 'index'), index);
        else
            await promises_.rm(index, { force: true });
        await this.restoreRefs();
        this.refsRestored = true;
        if (this.options.keepUntracked) {
            // The job's own untracked entries are where they were, or set aside where the update
            // would write: what is at those places now is the failed update's.
            for (const relative of this.written)
                await removeEntry(this.absolute(relative));
        }
        else {
            // Everything untracked now is what the failed update wrote: the job's own untracked
            // entries are set aside.
            await this.git.run(['clean', '-ffdxq', ...cleanExclusion(this.target, this.options.tempDir)]);
        }
        const differing = (await this.listChanges(false)).changed.filter(relative => !this.isSetAsideOrMissing(relative));
        for (let i = 0; i < differing.length; i += PATHS_PER_COMMAND) {
            const batch = differing.slice(i, i + PATHS_PER_COMMAND);
            await this.git.run(['checkout-index', '--force', '--quiet', '--', ...batch]);
        }
    }
    /** The reflogs keep a line saying why HEAD and the branch moved back. */
    async restoreRefs() {
        const why = ['-m', 'cachew-restore: put back after a failed update in place'];
        if (this.head.symref)
            await this.git.run(['symbolic-ref', ...why, 'HEAD', this.head.symref]);
        else
            await this.git.run(['update-ref', ...why, '--no-deref', 'HEAD', this.head.commit]);
        const branch = this.branch;
        if (!branch)
            return;
        if (branch.commit)
            await this.git.run(['update-ref', ...why, branch.ref, branch.commit]);
        else
            await this.git.run(['update-ref', ...why, '-d', branch.ref]);
        const name = branch.ref.slice('refs/heads/'.length);
        await this.restoreConfig(`branch.${name}.remote`, branch.remote);
        await this.restoreConfig(`branch.${name}.merge`, branch.merge);
    }
    async restoreConfig(key, values) {
        // Exit 5: there was nothing to unset.
        await this.git.run(['config', '--unset-all', key], { okExitCodes: [5] });
        for (const value of values)
            await this.git.run(['config', '--add', key, value]);
    }
    isSetAsideOrMissing(relative) {
        return [...this.aside, ...this.missing].some(entry => relative === entry || relative.startsWith(`${entry}/`));
    }
    /** The target's state after a failed put-back, as far as it can be read. */
    async describeState() {
        const parts = [
            await recordHead(this.git).then(now => `HEAD is at ${describeHead(now.commit, now.symref)}`, () => 'HEAD cannot be read')
        ];
        if (this.updating) {
            parts.push(this.refsRestored ? 'the index is as it was' : 'the index is as the failed update left it', `its files are partly at ${this.head.commit} and partly at ${this.options.destination}`);
        }
        let state = parts.join(', ');
        const count = this.aside.length;
        if (count > 0) {
            state +=
                `; ${count} untracked or edited entr${count === 1 ? 'y' : 'ies'} it held ` +
                    `${count === 1 ? 'is' : 'are'} in ${external_node_path_.join(this.directory, 'tree')}`;
        }
        return state;
    }
    absolute(relative) {
        return external_node_path_.join(this.target, ...relative.split('/'));
    }
    asidePath(relative) {
        return external_node_path_.join(this.directory, 'tree', ...relative.split('/'));
    }
}
/** `git clean` arguments that keep RUNNER_TEMP when it lies inside the target. */
function cleanExclusion(target, tempDir) {
    const relative = relativeInside(target, tempDir);
    return relative === undefined ? [] : ['-e', `/${relative}`];
}
function relativeInside(root, inner) {
    const relative = external_node_path_.relative(root, inner);
    if (relative === '' || relative.startsWith('..') || external_node_path_.isAbsolute(relative))
        return undefined;
    return relative.split(external_node_path_.sep).join('/');
}
async function recordHead(git) {
    const commit = await git.read(['rev-parse', '--verify', 'HEAD^{commit}']);
    const symref = await git.run(['symbolic-ref', '--quiet', 'HEAD'], { okExitCodes: [1] });
    return { commit, symref: symref.exitCode === 0 ? symref.stdout.trim() : undefined };
}
async function recordBranch(git, name) {
    const ref = `refs/heads/${name}`;
    const commit = await git.run(['rev-parse', '--verify', '--quiet', ref], { okExitCodes: [1] });
    return {
        ref,
        commit: commit.exitCode === 0 ? commit.stdout.trim() : undefined,
        remote: await configValues(git, `branch.${name}.remote`),
        merge: await configValues(git, `branch.${name}.merge`)
    };
}
async function configValues(git, key) {
    // Exit 1: the key is not set.
    const result = await git.run(['config', '-z', '--get-all', key], { okExitCodes: [1] });
    return result.stdout.split('\0').filter(value => value !== '');
}
function describeHead(commit, symref) {
    return symref ? `${commit} on ${symref.replace(/^refs\/heads\//, '')}` : `${commit} (detached)`;
}
async function copyIfExists(from, to) {
    try {
        await promises_.copyFile(from, to, promises_.constants.COPYFILE_FICLONE);
        return true;
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return false;
        throw error;
    }
}
async function in_place_undo_lstatOrUndefined(file) {
    try {
        return await promises_.lstat(file);
    }
    catch (error) {
        const code = error.code;
        if (code === 'ENOENT' || code === 'ENOTDIR')
            return undefined;
        throw error;
    }
}
async function in_place_undo_exists(file) {
    return (await in_place_undo_lstatOrUndefined(file)) !== undefined;
}
async function removeEntry(file) {
    await promises_.rm(file, { recursive: true, force: true });
}
function reasonOf(error) {
    if (error instanceof GitError) {
        return error.stderr.split('\n').find(line => line.trim() !== '') ?? error.message;
    }
    return error instanceof Error ? error.message : String(error);
}

;// CONCATENATED MODULE: ./src/git/in-place.ts
/**
 * Updating an existing checkout in place, for self-hosted runners that keep the workspace
 * between jobs. When the target already is a healthy clone of the same repository, the
 * destination commit is made local through cachew (freshen's ensure-refs and fetch), the tree
 * is cleaned as actions/checkout's `clean` input says (all untracked and ignored files go, or
 * with false only those in the way) and then checked out as finishCheckout checks out. A few commits behind, that moves a few files instead of the whole
 * snapshot.
 *
 * Three stages, and what a failure in each leads to (the caller then restores the snapshot):
 *  1. examine, reading only: not the same repository, broken, shallow, mid-merge... → an info
 *     line saying why;
 *  2. fetch, adding objects and remote-tracking refs only: a failed fetch, or one that receives
 *     more than FETCH_BUDGET_SHARE of the snapshot's size (cut off there) → an info line;
 *  3. update the tree (clean, reset, checkout): a failure → a warning, after the checkout is
 *     put back as the job found it (in-place-undo.ts), so that a snapshot restore that fails
 *     too leaves the target as it was; when putting back fails, the warning says what state
 *     the target is in, and the snapshot's staging replaces the whole target if it can.
 * A cancelled job puts the checkout back the same way and stops there.
 */














/**
 * The fetch may receive at most this share of the snapshot's compressed size before it is cut
 * off and the snapshot restored instead. Measured on the benchmark's repository (README, "A
 * checkout already in the target"): fetching through cachew ran at 26 MB/s, and in place beat
 * restoring the snapshot over a checkout up to about 60% of the snapshot's size even with every
 * file rewritten. A quarter leaves a factor of two for slower fetches, and a cut-off attempt
 * costs only the time to receive that quarter.
 */
const FETCH_BUDGET_SHARE = 0.25;
/** How often the incoming pack's size is looked at while git fetches. */
const BUDGET_POLL_MS = 100;
/** Why the checkout is not updated in place; the message completes "Not updating X in place: ". */
class NotInPlace extends Error {
    name = 'NotInPlace';
}
/**
 * Brings the checkout at settings.target to the destination in place, or returns undefined
 * (having said why) when the snapshot should be restored instead. Throws only the job's
 * cancellation, once the checkout is put back: the inputs were refused, if at all, when the
 * settings were read.
 */
async function updateInPlace(settings, cachew, log, 
/** Settles once git trusts the target (set-safe-directory); awaited before the first git. */
targetTrusted = Promise.resolve()) {
    const target = settings.target;
    const phases = [];
    const git = new Git(target, accessSecrets(settings), { config: inPlaceGitConfig(settings) });
    let plan;
    try {
        plan = await timed(phases, 'Examine the checkout', () => planUpdate(git, settings, cachew, targetTrusted));
    }
    catch (error) {
        log.info(`Not updating ${target} in place: ${in_place_reasonOf(error)}; restoring the snapshot.`);
        return undefined;
    }
    const outcome = await log.group('Update the existing checkout in place', () => fetchAndUpdate(git, settings, cachew, plan, phases, log));
    if ('result' in outcome)
        return outcome.result;
    // Outside the group, so the reason shows without unfolding it.
    reportFailure(target, outcome, log);
    if (!cancellation/* jobCancelled */.XE.aborted)
        return undefined;
    if (outcome.putBack?.done === false) {
        throw new errors/* ExpectedError */.Dh(`The restore was cancelled while ${target} was being updated in place, and it could ` +
            `not be put back: ${outcome.putBack.state}.`);
    }
    throw cancellation/* jobCancelled */.XE.reason;
}
function reportFailure(target, outcome, log) {
    const cancelled = cancellation/* jobCancelled */.XE.aborted;
    if (!outcome.putBack) {
        if (!cancelled) {
            log.info(`Not updating ${target} in place: ${outcome.reason}; restoring the snapshot.`);
        }
        return;
    }
    const failed = cancelled
        ? `Updating ${target} in place was cancelled after the tree had started to change`
        : `Updating ${target} in place failed after the tree had started to change (${outcome.reason})`;
    if (outcome.putBack.done) {
        log.warning(`${failed}; put it back as the job found it (HEAD at ${outcome.startedAt}); ` +
            (cancelled ? 'stopping there.' : 'restoring the snapshot.'));
        return;
    }
    const { reason, state } = outcome.putBack;
    log.warning(`${failed}, and putting it back failed (${reason}): ${state}. ` +
        (cancelled
            ? 'Restore the snapshot or check it out again.'
            : 'Restoring the snapshot, which replaces it; should that fail as well, it stays so.'));
}
async function fetchAndUpdate(git, settings, cachew, plan, phases, log) {
    log.info(`${settings.target} holds a checkout of ${settings.repositoryUrl} at ${plan.start.commit}: ` +
        `updating it in place to ${describeDestination(plan.destination)}.`);
    let fetched;
    try {
        fetched = await timed(phases, 'Fetch through cachew', () => fetchDestination(settings, cachew, plan, log));
    }
    catch (error) {
        return { reason: in_place_reasonOf(error) };
    }
    let undo;
    try {
        undo = await InPlaceUndo.record(undoGit(settings), settings.target, {
            destination: fetched.resolved.commit,
            branch: fetched.resolved.branch,
            tempDir: settings.tempDir,
            keepUntracked: !settings.clean
        });
    }
    catch (error) {
        return { reason: `its state could not be recorded to put it back (${in_place_reasonOf(error)})` };
    }
    try {
        const updated = await timed(phases, 'Update the tree', async () => {
            await undo.setAside();
            return updateTree(git, settings, fetched.resolved, log);
        });
        await undo
            .discard()
            .catch((error) => log.warning(`Could not remove ${undo.directory}: ${in_place_reasonOf(error)}`));
        return { result: { ...updated, fetchedBytes: fetched.bytes, phases } };
    }
    catch (error) {
        const putBack = await undo.putBack();
        return { reason: in_place_reasonOf(error), putBack, startedAt: undo.describeHead() };
    }
}
/** Putting back runs to its end even when the job is cancelled (it is why, often). */
function undoGit(settings) {
    return new Git(settings.target, accessSecrets(settings), {
        config: inPlaceGitConfig(settings),
        uncancellable: true
    });
}
/**
 * The checkout's own hooks and fsmonitor, left by earlier jobs, do not run: a snapshot's fresh
 * clone has none, and a post-checkout hook that fails (git-lfs missing, say) would fail the
 * checkout. Hooks are looked for in a directory that does not exist.
 */
function inPlaceGitConfig(settings) {
    const noHooks = external_node_path_.join(settings.tempDir, `cachew-no-hooks-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}`);
    return [
        { key: 'core.hooksPath', value: noHooks },
        // Empty is "off" for every git: a boolean false since 2.36, "no hook command" before.
        { key: 'core.fsmonitor', value: '' }
    ];
}
// ---------------------------------------------------------------- stage 1: examine
async function planUpdate(git, settings, cachew, targetTrusted) {
    await requireOwnCheckout(settings.target);
    await targetTrusted;
    await requireHealthyRepository(git, settings.target);
    await requireSameRepository(git, settings.repositoryUrl);
    const start = await readHead(git);
    const destination = await chooseInPlaceDestination(git, settings);
    const budget = await fetchBudget(settings, cachew);
    return { start, destination, budget };
}
/** The target is a directory with a .git directory of its own (not a linked worktree). */
async function requireOwnCheckout(target) {
    const stat = await promises_.stat(target).catch(() => undefined);
    if (!stat)
        throw new NotInPlace('it does not exist');
    if (!stat.isDirectory())
        throw new NotInPlace('it is not a directory');
    const dotGit = await in_place_lstatOrUndefined(external_node_path_.join(target, '.git'));
    if (!dotGit)
        throw new NotInPlace('there is no git checkout in it');
    if (!dotGit.isDirectory()) {
        throw new NotInPlace('its .git is not a directory (a linked worktree or a submodule)');
    }
}
async function in_place_lstatOrUndefined(file) {
    try {
        return await promises_.lstat(file);
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return undefined;
        throw error;
    }
}
/** Work in progress that a checkout would trample, or that says a git process died midway. */
const IN_PROGRESS = [
    ['index.lock', "git's index.lock exists (another git is running, or one was killed)"],
    ['MERGE_HEAD', 'a merge is in progress'],
    ['rebase-merge', 'a rebase is in progress'],
    ['rebase-apply', 'a rebase or git am is in progress'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick is in progress'],
    ['REVERT_HEAD', 'a revert is in progress'],
    ['BISECT_LOG', 'a bisect is in progress']
];
async function requireHealthyRepository(git, target) {
    let lines;
    try {
        lines = (await git.read(['rev-parse', '--is-shallow-repository', '--show-toplevel'])).split('\n');
    }
    catch (error) {
        throw new NotInPlace(`git cannot use it (${in_place_reasonOf(error)})`);
    }
    const [shallow, toplevel] = lines;
    // An unusable .git makes git look further up: the repository found must be this one.
    if (external_node_path_.resolve(toplevel) !== external_node_path_.resolve(await promises_.realpath(target))) {
        throw new NotInPlace(`its .git is not a usable repository (git found ${toplevel} instead)`);
    }
    if (shallow === 'true')
        throw new NotInPlace('it is a shallow clone (a snapshot has all history)');
    for (const [name, reason] of IN_PROGRESS) {
        if (await in_place_lstatOrUndefined(external_node_path_.join(target, '.git', name)))
            throw new NotInPlace(reason);
    }
}
/** The configuration that decides whether the checkout is the same repository, whole. */
const SHAPE_KEYS = '^(remote\\.origin\\.url|remote\\.origin\\.promisor|extensions\\.partialclone|core\\.sparsecheckout)$';
async function requireSameRepository(git, repositoryUrl) {
    const config = await readConfig(git, SHAPE_KEYS);
    const origin = config.get('remote.origin.url');
    if (origin === undefined)
        throw new NotInPlace('it has no remote named origin');
    if (!sameRepository(origin, repositoryUrl)) {
        throw new NotInPlace(`its origin is ${redactUrl(origin)}, not ${repositoryUrl}`);
    }
    if (isTrue(config.get('remote.origin.promisor')) || config.has('extensions.partialclone')) {
        throw new NotInPlace('it is a partial clone (a snapshot has every object)');
    }
    if (isTrue(config.get('core.sparsecheckout'))) {
        throw new NotInPlace('it is a sparse checkout (a snapshot has every file)');
    }
}
/** Keys (lower case, as git prints them) to their first value. */
async function readConfig(git, pattern) {
    const result = await git.run(['config', '-z', '--get-regexp', pattern], { okExitCodes: [1] });
    const config = new Map();
    for (const record of result.stdout.split('\0')) {
        if (record === '')
            continue;
        const newline = record.indexOf('\n');
        const key = newline < 0 ? record : record.slice(0, newline);
        if (!config.has(key))
            config.set(key, newline < 0 ? 'true' : record.slice(newline + 1));
    }
    return config;
}
function isTrue(value) {
    return value !== undefined && ['true', 'yes', 'on', '1'].includes(value.toLowerCase());
}
/**
 * https://HOST/PATH with scheme and host in lower case, no credentials, no default port and no
 * trailing slash or `.git`; undefined for anything but an http(s) URL with a path.
 */
function normaliseRepositoryUrl(raw) {
    let url;
    try {
        url = new URL(raw.trim());
    }
    catch {
        return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
        return undefined;
    if (url.search || url.hash)
        return undefined;
    const repoPath = url.pathname
        .replace(/\/+$/, '')
        .replace(/\.git$/, '')
        .replace(/\/+$/, '');
    if (repoPath === '')
        return undefined;
    return `${url.protocol}//${url.host}${repoPath}`;
}
/**
 * Whether origin is the repository: the same http(s) URL (normalised), or an ssh URL of it
 * (USER@HOST:PATH or ssh://USER@HOST[:PORT]/PATH, as ssh-key leaves origin) with the same host
 * name and path.
 */
function sameRepository(origin, repositoryUrl) {
    const wanted = normaliseRepositoryUrl(repositoryUrl);
    if (wanted === undefined)
        return false;
    const https = normaliseRepositoryUrl(origin);
    if (https !== undefined)
        return https === wanted;
    const ssh = sshHostAndPath(origin);
    const url = new URL(wanted);
    return ssh !== undefined && ssh === `${url.hostname}${url.pathname}`;
}
/** HOST/PATH (host in lower case, no `.git`) of an ssh URL; undefined for anything else. */
function sshHostAndPath(raw) {
    const text = raw.trim();
    let host;
    let repoPath;
    if (/^ssh:\/\//i.test(text)) {
        let url;
        try {
            url = new URL(text);
        }
        catch {
            return undefined;
        }
        host = url.hostname;
        repoPath = url.pathname;
    }
    else {
        // scp-like, as git reads it: a colon before any slash, and not a drive letter.
        const match = /^(?:[^@/:]+@)?([^@/:]{2,}):(.+)$/.exec(text);
        if (!match)
            return undefined;
        host = match[1];
        repoPath = match[2];
    }
    const cleaned = repoPath
        .replace(/^\/+/, '')
        .replace(/\/+$/, '')
        .replace(/\.git$/, '')
        .replace(/\/+$/, '');
    if (!host || cleaned === '')
        return undefined;
    return `${host.toLowerCase()}/${cleaned}`;
}
/** The URL with any user name and password replaced, fit for the log. */
function redactUrl(raw) {
    try {
        const url = new URL(raw);
        if (!url.username && !url.password)
            return raw;
        url.username = '***';
        url.password = '';
        return url.toString();
    }
    catch {
        return raw.replace(/\/\/[^/@]*@/, '//***@');
    }
}
async function readHead(git) {
    try {
        const start = await readStartingHead(git);
        // The commit is readable; its tree must be too, or the checkout fails halfway.
        await git.run(['cat-file', '-e', `${start.commit}^{tree}`]);
        return start;
    }
    catch (error) {
        throw new NotInPlace(`its HEAD is not a readable commit (${in_place_reasonOf(error)})`);
    }
}
/**
 * Where the snapshot path would end. Its 'snapshot' destination (no commit from the workflow)
 * is the snapshot's branch moved on by the delta bundle: the tip of the default branch, which
 * origin/HEAD names in a clone.
 */
async function chooseInPlaceDestination(git, settings) {
    const destination = settings.destination;
    if (destination.kind !== 'snapshot')
        return destination;
    if (settings.keepSnapshotHead) {
        throw new NotInPlace("keep-snapshot-head asks for the snapshot's own head");
    }
    const prefix = 'refs/remotes/origin/';
    const head = await git.run(['symbolic-ref', '--quiet', `${prefix}HEAD`], {
        okExitCodes: [1, 128]
    });
    const ref = head.stdout.trim();
    if (head.exitCode !== 0 || !ref.startsWith(prefix)) {
        throw new NotInPlace('origin/HEAD is not set, so the default branch is unknown');
    }
    return { kind: 'branch', branch: ref.slice(prefix.length) };
}
/**
 * FETCH_BUDGET_SHARE of the snapshot's size, from a HEAD request (answered from cachew's cache,
 * never generating anything). Without a cached snapshot (404) there is no budget: restoring
 * would make cachew generate one, which costs more than any fetch.
 */
async function fetchBudget(settings, cachew) {
    let head;
    try {
        head = await cachew.headSnapshot({ signal: AbortSignal.timeout(settings.stallTimeoutMs) });
    }
    catch (error) {
        throw new NotInPlace(`cachew could not be asked for the snapshot's size (${in_place_reasonOf(error)})`);
    }
    if (head.status === 404)
        return undefined;
    if (head.status !== 200) {
        throw new NotInPlace(`cachew answered HTTP ${head.status} when asked for the snapshot's size`);
    }
    return head.size ? Math.floor(head.size * FETCH_BUDGET_SHARE) : undefined;
}
// ---------------------------------------------------------------- stage 2: fetch
/** The fetch passed its budget and was cut off. */
class FetchBudgetExceeded extends NotInPlace {
    name = 'FetchBudgetExceeded';
}
async function fetchDestination(settings, cachew, plan, log) {
    const packDir = external_node_path_.join(settings.target, '.git', 'objects', 'pack');
    const before = new Set(await readdirOrEmpty(packDir));
    const controller = new AbortController();
    const watcher = plan.budget === undefined
        ? undefined
        : watchIncomingPack(packDir, before, plan.budget, controller);
    // Every fetch keeps its pack (as a clone does), so its size is watched and reported even
    // below fetch.unpackLimit's default of 100 objects, or a higher one configured here.
    const config = [...inPlaceGitConfig(settings), { key: 'fetch.unpackLimit', value: '1' }];
    const git = new Git(settings.target, accessSecrets(settings), {
        config,
        signal: controller.signal
    });
    try {
        const { resolved, fetched } = await resolveDestination({ git, settings, cachew, log }, plan.destination, plan.start, { fetchInstead: false });
        const bytes = await newPackBytes(packDir, before);
        if (fetched)
            log.info(`Fetched ${(0,report_log/* formatBytes */.z)(bytes)} of packs through cachew.`);
        return { resolved, bytes };
    }
    catch (error) {
        await removeIncomingPacks(packDir, before);
        if (error instanceof NotInPlace)
            throw error;
        throw new NotInPlace(`the fetch through cachew failed (${in_place_reasonOf(error)})`);
    }
    finally {
        watcher?.stop();
    }
}
/**
 * Polls the size of the pack git is receiving (objects/pack/tmp_pack_*) and aborts the fetch
 * once it passes the budget.
 */
function watchIncomingPack(packDir, before, budget, controller) {
    let busy = false;
    const check = async () => {
        const received = await sizeOf(packDir, name => name.startsWith('tmp_pack_') && !before.has(name));
        if (received > budget && !controller.signal.aborted) {
            controller.abort(new FetchBudgetExceeded(`the fetch passed ${(0,report_log/* formatBytes */.z)(budget)}, ${FETCH_BUDGET_SHARE * 100}% of the ` +
                "snapshot's size, so the checkout is too far behind"));
        }
    };
    const timer = setInterval(() => {
        if (busy)
            return;
        busy = true;
        check()
            .catch(() => undefined)
            .finally(() => (busy = false));
    }, BUDGET_POLL_MS);
    timer.unref();
    return { stop: () => clearInterval(timer) };
}
async function readdirOrEmpty(directory) {
    try {
        return await promises_.readdir(directory);
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return [];
        throw error;
    }
}
/** Summed size of the directory's files whose names pass `wanted` (gone ones count 0). */
async function sizeOf(directory, wanted) {
    const names = (await readdirOrEmpty(directory)).filter(wanted);
    const sizes = await Promise.all(names.map(name => promises_.stat(external_node_path_.join(directory, name)).then(stat => stat.size, () => 0)));
    return sizes.reduce((sum, size) => sum + size, 0);
}
function newPackBytes(packDir, before) {
    return sizeOf(packDir, name => name.endsWith('.pack') && !before.has(name));
}
/** What a cut-off fetch leaves behind: git removes its temporary pack only on a clean exit. */
async function removeIncomingPacks(packDir, before) {
    const leftovers = (await readdirOrEmpty(packDir)).filter(name => name.startsWith('tmp_') && !before.has(name));
    await Promise.all(leftovers.map(name => promises_.rm(external_node_path_.join(packDir, name), { force: true })));
}
// ---------------------------------------------------------------- stage 3: update the tree
/**
 * As actions/checkout leaves an existing checkout. With `clean: true`, untracked and ignored
 * files go first (`clean -ffdx`, nested repositories included). With `clean: false` they stay,
 * but for those in the way of a path the destination tracks, which the forced checkout
 * replaces as checkout's does (InPlaceUndo has set them aside). Tracked files are reset either
 * way, here by the forced checkout itself, which makes index and tree match the destination in
 * one pass (a `reset --hard` before it would read every file once more). Only when HEAD
 * already is the destination, and checkOut has nothing to do, does `reset --hard` undo local
 * edits.
 */
async function updateTree(git, settings, resolved, log) {
    if (settings.clean) {
        // What clean removes is set aside already (InPlaceUndo.setAside); this catches the rest.
        await git.run(['clean', '-ffdxq', ...cleanExclusion(settings.target, settings.tempDir)]);
    }
    const head = await readStartingHead(git);
    if (head.commit === resolved.commit)
        await git.run(['reset', '--hard', '--quiet', 'HEAD']);
    await checkOut(git, resolved, head, 'unknown');
    // Before the refresh: until then a submodule a job before checked out is still at its old
    // commit, which the refresh would report as a difference.
    await updateSubmodules(git, settings, log);
    warnIfDirty(await refreshIndex(settings.target, git), log);
    const commit = await git.read(['rev-parse', 'HEAD']);
    log.info(`Checked out ${resolved.ref} at ${commit} in place.`);
    await setOrigin(settings.target, settings);
    const gitConfigFile = settings.persistCredentials
        ? (await configureGitAccess(settings.target, settings)).configFile
        : undefined;
    return { commit, ref: resolved.ref, gitConfigFile };
}
// ---------------------------------------------------------------- helpers
function in_place_reasonOf(error) {
    if (error instanceof GitError)
        return firstLine(error.stderr) || error.message;
    return error instanceof Error ? error.message : String(error);
}
function firstLine(text) {
    return text.split('\n').find(line => line.trim() !== '') ?? '';
}

;// CONCATENATED MODULE: ./src/report/progress.ts

function describeProgress(stats, size, seconds) {
    const percent = size
        ? ` of ${(0,report_log/* formatBytes */.z)(size)} (${Math.floor((100 * stats.bytes) / size)}%)`
        : '';
    return (`Downloaded ${(0,report_log/* formatBytes */.z)(stats.bytes)}${percent} at ${(0,report_log/* formatRate */.C)(stats.bytes, seconds)}, ` +
        `${stats.inFlight} request(s) in flight, ${stats.retries} retr${stats.retries === 1 ? 'y' : 'ies'}`);
}
function startProgress(stats, size, log, intervalMs = 5000) {
    const started = performance.now();
    const timer = setInterval(() => {
        log.info(describeProgress(stats, size, (performance.now() - started) / 1000));
    }, intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
}

;// CONCATENATED MODULE: ./src/submodule-snapshots.ts
/**
 * The submodules' own cachew snapshots, for src/git/submodules.ts: each downloaded by the same
 * engine as the superproject's (ranges pinned by ETag, retries, stall watchdog) into a spool
 * in the restore's temp directory, and decoded and extracted while it downloads, through the
 * same path-safe extractor. Several submodules restore at once; the download budget
 * (download-concurrency) is split between them, so they never have more requests in flight
 * together than the superproject's snapshot had alone.
 */










/**
 * At most this many submodules restore at once: enough to overlap one's git work with
 * another's download, few enough that each download keeps several ranged requests.
 */
const MAX_PARALLEL_SUBMODULES = 4;
/**
 * Snapshots from `cachew`'s server, spooled and staged in `directory` (the restore's temp
 * directory, on the target's filesystem, removed by the restore), stopped by `signal`.
 */
function submoduleSnapshots(settings, cachew, directory, signal, log) {
    const parallel = Math.max(1, Math.min(MAX_PARALLEL_SUBMODULES, settings.downloadConcurrency));
    const concurrency = Math.max(1, Math.floor(settings.downloadConcurrency / parallel));
    const unique = (stem) => external_node_path_.join(directory, `${stem}-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`);
    return {
        parallel,
        stagingDirectory: async () => {
            const staged = unique('submodule');
            await promises_.mkdir(staged);
            return staged;
        },
        extract: async (repositoryUrl, target) => {
            const url = snapshotUrl(settings.serverUrl, repositoryUrl);
            const spool = await download_spool/* Spool */.Q.create(`${unique('submodule')}.tar.zst`);
            const controller = new AbortController();
            let download;
            try {
                download = await Download.start(url, spool, {
                    transport: cachew.transport,
                    concurrency,
                    chunkSize: settings.chunkSizeBytes,
                    stallTimeoutMs: settings.stallTimeoutMs,
                    signal: (0,cancellation/* orCancelled */.Nr)(AbortSignal.any([signal, controller.signal])),
                    authorized: settings.authorization !== undefined,
                    what: 'submodule snapshot'
                });
                await ensureFreeSpace(directory, download.info.size);
                const size = download.info.size === undefined ? 'size unknown' : (0,report_log/* formatBytes */.z)(download.info.size);
                log.info(`Snapshot: ${url} (${size}).`);
                const extracted = await (0,materialize/* materialize */.O)({ source: spool, complete: download.completion }, target, {
                    controller,
                    onSkip: (entry, reason) => log.warning(`Skipped archive entry '${entry}': ${reason}`),
                    debug: message => log.debug(message)
                });
                return extracted.blobIds;
            }
            finally {
                controller.abort();
                await download?.completion.catch(() => undefined);
                await spool.close();
                await promises_.rm(spool.file, { force: true });
            }
        },
        cachew: repositoryUrl => cachew.forRepository(repositoryUrl)
    };
}

;// CONCATENATED MODULE: ./src/restore.ts
var __addDisposableResource = (undefined && undefined.__addDisposableResource) || function (env, value, async) {
    if (value !== null && value !== void 0) {
        if (typeof value !== "object" && typeof value !== "function") throw new TypeError("Object expected.");
        var dispose, inner;
        if (async) {
            if (!Symbol.asyncDispose) throw new TypeError("Symbol.asyncDispose is not defined.");
            dispose = value[Symbol.asyncDispose];
        }
        if (dispose === void 0) {
            if (!Symbol.dispose) throw new TypeError("Symbol.dispose is not defined.");
            dispose = value[Symbol.dispose];
            if (async) inner = dispose;
        }
        if (typeof dispose !== "function") throw new TypeError("Object not disposable.");
        if (inner) dispose = function() { try { inner.call(this); } catch (e) { return Promise.reject(e); } };
        env.stack.push({ value: value, dispose: dispose, async: async });
    }
    else if (async) {
        env.stack.push({ async: true });
    }
    return value;
};
var __disposeResources = (undefined && undefined.__disposeResources) || (function (SuppressedError) {
    return function (env) {
        function fail(e) {
            env.error = env.hasError ? new SuppressedError(e, env.error, "An error was suppressed during disposal.") : e;
            env.hasError = true;
        }
        var r, s = 0;
        function next() {
            while (r = env.stack.pop()) {
                try {
                    if (!r.async && s === 1) return s = 0, env.stack.push(r), Promise.resolve().then(next);
                    if (r.dispose) {
                        var result = r.dispose.call(r.value);
                        if (r.async) return s |= 2, Promise.resolve(result).then(next, function(e) { fail(e); return next(); });
                    }
                    else s |= 1;
                }
                catch (e) {
                    fail(e);
                }
            }
            if (s === 1) return env.hasError ? Promise.reject(env.error) : Promise.resolve();
            if (env.hasError) throw env.error;
        }
        return next();
    };
})(typeof SuppressedError === "function" ? SuppressedError : function (error, suppressed, message) {
    var e = new Error(message);
    return e.name = "SuppressedError", e.error = error, e.suppressed = suppressed, e;
});
/**
 * One restore, start to end: discover and download the snapshot into a spool file,
 * decode and extract it into a staging directory while it downloads, bring git to the
 * wanted commit there, then move the tree into place. A failure at any point leaves the
 * target as it was and removes every temp file. First, with update-existing: auto, a
 * checkout of the same repository already at the target is updated in place instead when
 * it qualifies (src/git/in-place.ts); when it does not, the snapshot is restored as ever.
 */



























/** How often a regenerated snapshot (or a broken unresumable stream) starts the restore over. */
const MAX_RESTARTS = 2;
/** The snapshot's phase: download and extraction overlap, so they are one phase. */
const DOWNLOAD_PHASE = 'Download and extract';
/** The same phase when the runner cache holds the current snapshot. */
const CACHE_PHASE = 'Extract from the runner cache';
/**
 * `targetTrusted` settles once git trusts the target (set-safe-directory, which main adds
 * alongside the download): it is awaited before git first runs in the target itself, for an
 * update in place or once the tree has moved into an existing directory another user owns.
 */
async function restore(settings, log, targetTrusted = Promise.resolve()) {
    const started = performance.now();
    const workers = new ExtractionWorkers();
    // Before any request: without git-lfs the restore could only fail after the download.
    if (settings.lfs)
        log.debug(`Git LFS: ${await requireGitLfs(settings.tempDir)}`);
    const cachew = new CachewClient(settings, settings.downloadConcurrency + 2);
    try {
        // An update in place keeps the whole tree it finds; a sparse checkout is a snapshot's.
        if (settings.updateExisting === 'auto' && settings.sparseCheckout) {
            log.info('sparse-checkout is set: restoring the snapshot rather than updating in place.');
        }
        else if (settings.updateExisting === 'auto') {
            const updated = await updateInPlace(settings, cachew, log, targetTrusted);
            if (updated) {
                // The checkout in place left pointers (GIT_LFS_SKIP_SMUDGE) where LFS files changed; the
                // last job's objects are in .git/lfs, and git-lfs fetches the rest.
                if (settings.lfs)
                    await lfsInPlace(settings, updated.commit, log);
                return inPlaceResult(settings, updated, started);
            }
        }
        // The snapshot it is, so its extraction's worker starts now, to be ready for the first bytes.
        workers.startAhead();
        if (!settings.clean)
            await sayCleanDoesNotApply(settings.target, log);
        const cache = settings.runnerCacheDir === undefined
            ? undefined
            : await RunnerCache.open(settings.runnerCacheDir, settings.runnerCacheMaxBytes, log);
        for (let restarts = 0;; restarts++) {
            try {
                const once = { worker: workers.take(), targetTrusted };
                const result = await restoreOnce(settings, cachew, cache, once, log);
                return { ...result, restarts, seconds: (performance.now() - started) / 1000 };
            }
            catch (error) {
                // Whatever failed first once the job was cancelled, the cancellation is the reason.
                if (cancellation/* jobCancelled */.XE.aborted)
                    throw cancellation/* jobCancelled */.XE.reason;
                if (!(error instanceof errors/* RestartRequiredError */.Be) || restarts >= MAX_RESTARTS)
                    throw error;
                log.warning(`${error.message} Starting over (${restarts + 1} of ${MAX_RESTARTS}).`);
            }
        }
    }
    finally {
        cachew.close();
        await workers.close();
    }
}
/**
 * The extraction's workers, one per attempt at a restore: the first is started ahead, once
 * the restore knows it restores the snapshot (not after an update in place, which needs none
 * and would share the CPU with it), so that the worker's own start-up (40 to 80 ms) overlaps
 * the first request instead of delaying the extraction. Without a worker entry (jest runs the
 * sources), none: the extraction then runs on the calling thread.
 */
class ExtractionWorkers {
    next;
    static start() {
        return (0,materialize_worker/* workerAvailable */.cq)() ? new materialize_worker/* MaterializeWorker */.Oc() : undefined;
    }
    startAhead() {
        this.next ??= ExtractionWorkers.start();
    }
    take() {
        const worker = this.next ?? ExtractionWorkers.start();
        this.next = undefined;
        return worker;
    }
    /** Stops the one started ahead if no attempt took it (a failure before the first). */
    async close() {
        await this.next?.close();
    }
}
async function lfsInPlace(settings, commit, log) {
    const git = new Git(settings.target, accessSecrets(settings));
    const lfs = await checkOutLfs(git, settings, commit, log);
    const fetchedNote = lfs.fetched > 0 ? `, ${lfs.fetched} fetched from ${lfs.fetchedFrom}` : '';
    log.info(`Git LFS: ${lfs.files} file(s) with content${fetchedNote}.`);
}
/**
 * `clean: false` keeps untracked files only when a checkout is updated in place; a snapshot
 * restore replaces whatever the target holds, as actions/checkout does when it cannot reuse
 * the directory. Said once, when there is something to lose.
 */
async function sayCleanDoesNotApply(target, log) {
    const names = await promises_.readdir(target).catch(() => []);
    if (names.length === 0)
        return;
    log.info(`clean: false applies to a checkout updated in place only; the snapshot replaces what ` +
        `${target} holds, untracked files included.`);
}
/** An update in place, in the terms of a restore: no snapshot; the bytes are git's packs. */
function inPlaceResult(settings, updated, started) {
    return {
        mode: 'in-place',
        repositoryUrl: settings.repositoryUrl,
        commit: updated.commit,
        ref: updated.ref,
        bundleApplied: false,
        download: { ...noDownloadYet(0), bytes: updated.fetchedBytes },
        restarts: 0,
        entries: 0,
        phases: updated.phases,
        snapshotSeconds: 0,
        seconds: (performance.now() - started) / 1000,
        gitConfigFile: updated.gitConfigFile
    };
}
async function restoreOnce(settings, cachew, cache, { worker, targetTrusted }, log) {
    const env_1 = { stack: [], error: void 0, hasError: false };
    try {
        const { transport, snapshotUrl: url } = cachew;
        const phases = [];
        // What is made below is undone on every way out, newest first, a cancellation included.
        const scope = __addDisposableResource(env_1, new AsyncDisposableStack()
        // What stays after a success, but not after a failure; released at the end.
        , true);
        // What stays after a success, but not after a failure; released at the end.
        const undoOnFailure = __addDisposableResource(env_1, new AsyncDisposableStack(), true);
        const controller = new AbortController();
        const signal = (0,cancellation/* orCancelled */.Nr)(controller.signal);
        scope.defer(() => worker?.close());
        const spoolDirectory = await chooseSpoolDirectory(settings.tempDir, settings.target, log);
        scope.defer(() => quietly(spoolDirectory.cleanup(), 'temp directory removal', log));
        const cached = cache ? await revalidateCachedSnapshot(cache, settings, cachew, log) : undefined;
        const source = cached ?? (await downloadSnapshot(settings, url, spoolDirectory.path, transport, signal, log));
        scope.defer(() => source.spool.close());
        const staging = await prepareStaging(settings.target, { warn: message => log.warning(message) });
        scope.defer(() => quietly(staging.discard(), 'staging directory removal', log));
        const bundle = startBundleDownload(settings, source.fields.bundleUrl, transport, spoolDirectory.path, signal, log);
        const lfs = settings.lfs
            ? startLfsDownload(settings, source.fields.lfsSnapshotUrl ?? lfsSnapshotUrl(settings.serverUrl, settings.repositoryUrl), transport, spoolDirectory.path, signal, log)
            : Promise.resolve(undefined);
        // Stops whatever is still in flight; the bundle's file must be closed before its directory goes.
        scope.defer(async () => {
            controller.abort();
            await bundle;
            const download = await lfs;
            await download?.completion.catch(() => undefined);
            await download?.spool.close();
        });
        const extracted = await timed(phases, cached ? CACHE_PHASE : DOWNLOAD_PHASE, () => log.group(cached ? 'Extract the snapshot kept on this runner' : 'Download and extract the snapshot', () => extractSnapshot(source, staging.directory, controller, settings, worker, cache, log)));
        const snapshotSeconds = phases[phases.length - 1].seconds;
        // Its bytes are in the tree now: unless the runner cache keeps the file, it is closed and
        // removed while git works rather than at the end, where the kernel's freeing of its pages
        // took 20-30 ms for babel/babel's 223 MiB.
        if (!cache) {
            const released = source.spool
                .close()
                .then(() => promises_.rm(source.spool.file, { force: true }))
                .catch(() => undefined);
            scope.defer(() => released);
        }
        const { stats: download, fields } = source;
        if (settings.sparseCheckout) {
            log.info(`Sparse checkout: ${extracted.sparseSkipped} file(s) outside the set not written.`);
        }
        log.info(`Extracted ${extracted.entries} entries; downloaded ${(0,report_log/* formatBytes */.z)(download.bytes)} in ${download.requests} request(s).`);
        if (settings.lfs) {
            await timed(phases, 'LFS objects', () => log.group('Extract the LFS objects', async () => extractLfsObjects(await lfs, staging.directory, controller, log)));
        }
        const finished = await timed(phases, 'Git', () => log.group('Check out the workflow commit', async () => finishCheckout({
            directory: staging.directory,
            settings,
            bundle: await bundle,
            blobIds: extracted.blobIds,
            fileStats: extracted.fileStats,
            cachew,
            submoduleSnapshots: settings.submodules === 'false'
                ? undefined
                : submoduleSnapshots(settings, cachew, spoolDirectory.path, signal, log),
            log
        })));
        await setOrigin(staging.directory, settings);
        const access = settings.persistCredentials
            ? await configureGitAccess(staging.directory, settings)
            : undefined;
        if (access)
            undoOnFailure.defer(() => removeAccessFiles(access.configFile));
        await timed(phases, 'Move into place', async () => {
            await staging.commit();
            await targetTrusted;
            await freshenMovedEntries(settings.target, extracted.blobIds, log);
        });
        if (cache)
            await keepForNextJob(cache, settings, source);
        undoOnFailure.move();
        return {
            mode: 'snapshot',
            repositoryUrl: settings.repositoryUrl,
            source: source.from,
            snapshotCommit: fields.commit,
            commit: finished.commit,
            ref: finished.ref,
            bundleApplied: finished.bundleApplied,
            size: source.size,
            download,
            entries: extracted.entries,
            phases,
            snapshotSeconds,
            gitConfigFile: access?.configFile
        };
    }
    catch (e_1) {
        env_1.error = e_1;
        env_1.hasError = true;
    }
    finally {
        const result_1 = __disposeResources(env_1);
        if (result_1)
            await result_1;
    }
}
/**
 * Decodes and extracts the snapshot into the staging directory while it downloads, with
 * progress lines. A damaged snapshot from the runner cache is forgotten, and the restore
 * starts over with a download.
 */
async function extractSnapshot(source, directory, controller, settings, worker, cache, log) {
    const progress = source.from === 'server' && settings.showProgress
        ? startProgress(source.stats, source.size, log)
        : undefined;
    try {
        return await (0,materialize/* materialize */.O)({ source: source.spool, complete: source.completion }, directory, {
            controller,
            onSkip: (entry, reason) => log.warning(`Skipped archive entry '${entry}': ${reason}`),
            sparse: settings.sparseCheckout,
            worker,
            debug: message => log.debug(message)
        });
    }
    catch (error) {
        if (source.from === 'runner-cache' && cache && error instanceof errors/* ArchiveError */.di) {
            await cache.forget(settings.serverUrl, settings.repositoryUrl);
            throw new errors/* RestartRequiredError */.Be(`The snapshot kept on this runner is damaged (${error.message}); downloading it instead.`);
        }
        throw error;
    }
    finally {
        progress?.stop();
    }
}
/** Cleanup must not replace the error that caused it: a failure here is logged, not thrown. */
async function quietly(work, what, log) {
    try {
        await work;
    }
    catch (error) {
        log.debug(`${what} failed: ${error.message}`);
    }
}
async function downloadSnapshot(settings, url, directory, transport, signal, log) {
    log.info(`Snapshot: ${url}`);
    const spool = await download_spool/* Spool */.Q.create(external_node_path_.join(directory, `snapshot-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tar.zst`));
    try {
        const download = await Download.start(url, spool, downloadOptions(settings, transport, signal));
        const fields = snapshotFields(settings.serverUrl, download.info.headers);
        log.info(describePlan(download, fields.commit));
        await ensureFreeSpace(directory, download.info.size);
        return {
            from: 'server',
            spool,
            completion: download.completion,
            fields,
            size: download.info.size,
            etag: download.info.etag,
            stats: download.stats
        };
    }
    catch (error) {
        await spool.close();
        throw error;
    }
}
/**
 * Asks the server whether the snapshot this runner kept is still the current one (HEAD with
 * If-None-Match). Anything but a yes (a new snapshot, a miss, an error) means downloading.
 */
async function revalidateCachedSnapshot(cache, settings, cachew, log) {
    const kept = await cache.lookup(settings.serverUrl, settings.repositoryUrl);
    if (!kept)
        return undefined;
    const { entry, file, handle } = kept;
    let answer;
    try {
        const { status, etag, fields } = await cachew.headSnapshot({ ifNoneMatch: entry.etag });
        const current = status === 304 || (status === 200 && etag === entry.etag);
        if (current) {
            log.info(`The snapshot kept on this runner is current (${entry.commit ?? 'commit not given'}): not downloading it.`);
            // HEAD does not say whether the mirror moved on: the bundle endpoint answers 204 if not.
            const bundle = fields.bundleUrl ??
                (entry.commit
                    ? bundleUrl(settings.serverUrl, settings.repositoryUrl, entry.commit)
                    : undefined);
            return {
                from: 'runner-cache',
                spool: download_spool/* Spool */.Q.complete(file, handle, entry.size),
                completion: Promise.resolve(),
                fields: { commit: entry.commit, bundleUrl: bundle },
                size: entry.size,
                etag: entry.etag,
                stats: { ...noDownloadYet(0), requests: 1 }
            };
        }
        answer = `the server answered ${status}`;
    }
    catch (error) {
        answer = error.message;
    }
    await handle.close();
    log.info(`The snapshot kept on this runner is not current (${answer}): downloading.`);
    return undefined;
}
/** A whole, pinned download goes to the runner cache; a kept one is marked as used. */
async function keepForNextJob(cache, settings, source) {
    if (source.from === 'runner-cache') {
        await cache.touch(settings.serverUrl, settings.repositoryUrl);
        return;
    }
    // A cold serve has no ETag to revalidate with, nor a known size.
    if (source.etag === undefined || source.size === undefined)
        return;
    await source.spool.close();
    await cache.store(settings.serverUrl, settings.repositoryUrl, source.spool.file, {
        etag: source.etag,
        commit: source.fields.commit,
        size: source.size
    });
}
function downloadOptions(settings, transport, signal) {
    return {
        transport,
        concurrency: settings.downloadConcurrency,
        chunkSize: settings.chunkSizeBytes,
        stallTimeoutMs: settings.stallTimeoutMs,
        signal,
        authorized: settings.authorization !== undefined
    };
}
function describePlan(download, commit) {
    const size = download.info.size === undefined ? 'size unknown (cold serve)' : (0,report_log/* formatBytes */.z)(download.info.size);
    const how = download.stats.mode === 'parallel'
        ? `${download.stats.concurrencyLimit} ranged requests at once`
        : 'one stream';
    return `Snapshot ${commit ?? '(commit not given)'}: ${size}, downloading with ${how}.`;
}
/**
 * Starts the LFS snapshot's download alongside the snapshot, with the same engine. A 404 (no
 * LFS snapshot cached) or a download that fails is not fatal: git-lfs then fetches the objects
 * (src/git/lfs.ts); resolves undefined then, with a line that says why.
 */
async function startLfsDownload(settings, url, transport, directory, signal, log) {
    const credentialed = sameOrigin(settings.serverUrl, url);
    if (!credentialed && settings.authorization !== undefined) {
        log.info(`The LFS snapshot is on another origin (${new URL(url).origin}): fetching it without the authorization header.`);
    }
    const spool = await download_spool/* Spool */.Q.create(external_node_path_.join(directory, `lfs-snapshot-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tar.zst`));
    try {
        const download = await Download.start(url, spool, {
            ...downloadOptions(settings, transport, signal),
            authorized: credentialed && settings.authorization !== undefined,
            what: 'LFS snapshot'
        });
        const size = download.info.size === undefined ? 'size unknown' : (0,report_log/* formatBytes */.z)(download.info.size);
        log.info(`LFS snapshot: ${url} (${size}).`);
        return { spool, completion: download.completion };
    }
    catch (error) {
        await spool.close();
        if (signal.aborted)
            return undefined;
        const reason = error instanceof errors/* CacheMissError */.dE
            ? 'cachew has none cached (HTTP 404)'
            : error.message;
        log.info(`No LFS snapshot (${reason}): git-lfs fetches the LFS objects instead.`);
        return undefined;
    }
}
/**
 * Extracts the downloaded LFS snapshot into the staged clone's .git/lfs. A download that broke
 * midway leaves the objects to git-lfs; a damaged archive or object fails the restore.
 */
async function extractLfsObjects(download, directory, controller, log) {
    if (!download)
        return undefined;
    try {
        await download.completion;
    }
    catch (error) {
        if (cancellation/* jobCancelled */.XE.aborted)
            throw error;
        log.warning(`The LFS snapshot could not be downloaded (${error.message}); git-lfs fetches the LFS objects instead.`);
        return undefined;
    }
    const installed = await installLfsSnapshot({ source: download.spool, complete: download.completion }, directory, {
        controller,
        onSkip: (entry, reason) => log.warning(`Skipped LFS archive entry '${entry}': ${reason}`),
        debug: message => log.debug(message)
    });
    log.info(`Installed ${installed.objects} LFS object(s) (${(0,report_log/* formatBytes */.z)(installed.bytes)}) from the LFS snapshot.`);
    return installed;
}
/**
 * Fetches the delta bundle while the snapshot downloads and extracts. Any failure here is
 * a warning: git then fetches the missing commits through cachew instead.
 */
function startBundleDownload(settings, bundleUrl, transport, directory, signal, log) {
    if (!bundleUrl)
        return Promise.resolve('none');
    if (!settings.applyBundle)
        return Promise.resolve('disabled');
    const file = external_node_path_.join(directory, `bundle-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.bundle`);
    const credentialed = sameOrigin(settings.serverUrl, bundleUrl);
    if (!credentialed && settings.authorization !== undefined) {
        log.info(`The delta bundle is on another origin (${new URL(bundleUrl).origin}): fetching it without the authorization header.`);
    }
    const fetchBundle = async () => {
        const spool = await download_spool/* Spool */.Q.create(file);
        try {
            const download = await Download.start(bundleUrl, spool, {
                ...downloadOptions(settings, transport, signal),
                authorized: credentialed && settings.authorization !== undefined,
                what: 'delta bundle'
            });
            if (download.info.status === 204)
                return 'up-to-date';
            await download.completion;
            return { file };
        }
        finally {
            await spool.close();
        }
    };
    return fetchBundle().catch((error) => {
        if (signal.aborted)
            return 'unavailable';
        const reason = error instanceof errors/* CacheMissError */.dE ? 'the server no longer has it' : error.message;
        // finishCheckout warns that it fetches instead; this line says why.
        log.info(`The delta bundle could not be downloaded: ${reason}`);
        return 'unavailable';
    });
}

// EXTERNAL MODULE: ./src/archive/sparse-set.ts
var sparse_set = __webpack_require__(849);
;// CONCATENATED MODULE: ./src/git/fork-pull-request.ts
const PULL_REQUEST_REF = /^refs\/pull\/\d+\/(head|merge)$/;
/** The events whose workflows run trusted, with a pull request's code within reach. */
const TRUSTED_PULL_REQUEST_EVENTS = ['pull_request_target', 'workflow_run'];
/**
 * What makes the restore a fork's code in a trusted workflow ("the fork's repository",
 * "refs/pull/7/merge", "the pull request's commit abc…"), or undefined when it is not one.
 */
function forkCodeInTrustedWorkflow(question) {
    const pullRequest = forkPullRequest(question.eventName, question.payload);
    if (!pullRequest)
        return undefined;
    if (pullRequest.repository !== undefined && question.isRepository(pullRequest.repository)) {
        return `the fork's repository ${pullRequest.repository}`;
    }
    const destination = question.destination;
    if (destination.kind === 'detached-ref' && PULL_REQUEST_REF.test(destination.ref)) {
        return `the pull request ref ${destination.ref}`;
    }
    if (destination.kind === 'commit' && pullRequest.commits.includes(destination.commit)) {
        return `the pull request's commit ${destination.commit}`;
    }
    return undefined;
}
/** The fork's pull request behind the event, or undefined when the event has none. */
function forkPullRequest(eventName, payload) {
    const baseId = field(payload, 'repository', 'id');
    if (typeof baseId !== 'number')
        return undefined;
    let headId;
    let repository;
    let commits;
    if (eventName === 'pull_request_target') {
        headId = field(payload, 'pull_request', 'head', 'repo', 'id');
        repository = field(payload, 'pull_request', 'head', 'repo', 'full_name');
        commits = [
            field(payload, 'pull_request', 'head', 'sha'),
            field(payload, 'pull_request', 'merge_commit_sha')
        ];
    }
    else if (eventName === 'workflow_run') {
        const triggeredBy = field(payload, 'workflow_run', 'event');
        if (typeof triggeredBy !== 'string' || !triggeredBy.startsWith('pull_request'))
            return undefined;
        headId = field(payload, 'workflow_run', 'head_repository', 'id');
        repository = field(payload, 'workflow_run', 'head_repository', 'full_name');
        commits = [field(payload, 'workflow_run', 'head_commit', 'id')];
        // After a pull_request_target workflow, head_sha is the base branch's commit, not the fork's.
        if (triggeredBy !== 'pull_request_target')
            commits.push(field(payload, 'workflow_run', 'head_sha'));
    }
    else {
        return undefined;
    }
    if (typeof headId !== 'number' || headId === baseId)
        return undefined;
    return {
        repository: typeof repository === 'string' ? repository : undefined,
        commits: commits
            .filter((sha) => typeof sha === 'string' && sha !== '')
            .map(sha => sha.toLowerCase())
    };
}
function field(value, ...names) {
    let at = value;
    for (const name of names) {
        if (at === null || typeof at !== 'object')
            return undefined;
        at = at[name];
    }
    return at;
}

;// CONCATENATED MODULE: ./src/settings.ts
/**
 * Every input of the action, read once and validated into a typed RestoreSettings, together
 * with what the workflow's context decides (the commit to end on). Everything that can be
 * refused is refused here, before the first request; only this module and main.ts know about
 * the Actions runtime's input conventions.
 */









/** Input names exactly as action.yml declares them. */
const Inputs = {
    serverUrl: 'server-url',
    repository: 'repository',
    path: 'path',
    authorization: 'authorization',
    downloadConcurrency: 'download-concurrency',
    downloadChunkSizeMb: 'download-chunk-size-mb',
    stallTimeoutSeconds: 'stall-timeout-seconds',
    bundle: 'bundle',
    failOnCacheMiss: 'fail-on-cache-miss',
    ref: 'ref',
    keepSnapshotHead: 'keep-snapshot-head',
    token: 'token',
    persistCredentials: 'persist-credentials',
    setSafeDirectory: 'set-safe-directory',
    gitThroughCachew: 'git-through-cachew',
    runnerCache: 'runner-cache',
    runnerCacheMaxGb: 'runner-cache-max-gb',
    updateExisting: 'update-existing',
    // actions/checkout's other inputs, under its names (see checkout-inputs.ts).
    githubServerUrl: 'github-server-url',
    showProgress: 'show-progress',
    clean: 'clean',
    sshKey: 'ssh-key',
    sshKnownHosts: 'ssh-known-hosts',
    sshStrict: 'ssh-strict',
    sshUser: 'ssh-user',
    allowUnsafePrCheckout: 'allow-unsafe-pr-checkout',
    fetchDepth: 'fetch-depth',
    fetchTags: 'fetch-tags',
    filter: 'filter',
    sparseCheckout: 'sparse-checkout',
    sparseCheckoutConeMode: 'sparse-checkout-cone-mode',
    lfs: 'lfs',
    submodules: 'submodules'
};
/**
 * Defaults that apply when an input is absent (the runner fills action.yml's defaults in;
 * outside a workflow these apply). A test keeps them equal to action.yml's.
 */
const Defaults = {
    downloadConcurrency: 8,
    downloadChunkSizeMb: 16,
    stallTimeoutSeconds: 30,
    bundle: true,
    failOnCacheMiss: false,
    keepSnapshotHead: false,
    persistCredentials: true,
    setSafeDirectory: true,
    gitThroughCachew: true,
    runnerCache: 'auto',
    runnerCacheMaxGb: 10,
    updateExisting: 'auto',
    // actions/checkout's defaults, so a non-default value is one the workflow chose.
    showProgress: true,
    clean: true,
    sshStrict: true,
    sshUser: 'git',
    allowUnsafePrCheckout: false,
    fetchDepth: 1,
    fetchTags: false,
    sparseCheckoutConeMode: true,
    lfs: false,
    submodules: 'false'
};
const Limits = {
    downloadConcurrency: { min: 1, max: 64 },
    downloadChunkSizeMb: { min: 1, max: 1024 },
    stallTimeoutSeconds: { min: 1, max: 3600 },
    runnerCacheMaxGb: { min: 1, max: 1024 }
};
/** Reads an input the way the runner passes it (INPUT_<NAME>, hyphens kept), trimmed. */
function readInput(name) {
    return getInput(name);
}
function readSettings(env = process.env) {
    const workspace = external_node_path_.resolve(env.GITHUB_WORKSPACE || process.cwd());
    const authorization = readInput(Inputs.authorization) || env.CACHEW_AUTHORIZATION || undefined;
    if (authorization)
        setSecret(authorization);
    if (authorization)
        refuseUnsendable(Inputs.authorization, authorization, HEADER_VALUE);
    const token = readInput(Inputs.token) || undefined;
    if (token)
        setSecret(token);
    if (token)
        refuseUnsendable(Inputs.token, token, /[\r\n]/);
    const repositoryUrl = parseRepository(readInput(Inputs.repository), env);
    const keepSnapshotHead = parseBoolean(Inputs.keepSnapshotHead, Defaults.keepSnapshotHead);
    const chunkMb = parseInteger(Inputs.downloadChunkSizeMb, Defaults.downloadChunkSizeMb, Limits.downloadChunkSizeMb);
    const ref = readInput(Inputs.ref);
    const workflow = readWorkflowContext(env);
    const destination = chooseDestination({ ref, keepSnapshotHead, repositoryUrl }, workflow);
    refuseForkCodeInTrustedWorkflow({ ref, repositoryUrl, destination }, workflow, env);
    return {
        serverUrl: parseServerUrl(readInput(Inputs.serverUrl) || env.CACHEW_URL || ''),
        repositoryUrl,
        target: parseTargetPath(readInput(Inputs.path), workspace),
        workspace,
        tempDir: external_node_path_.resolve(env.RUNNER_TEMP || external_node_os_.tmpdir()),
        authorization,
        downloadConcurrency: parseInteger(Inputs.downloadConcurrency, Defaults.downloadConcurrency, Limits.downloadConcurrency),
        chunkSizeBytes: chunkMb * 1024 * 1024,
        stallTimeoutMs: parseInteger(Inputs.stallTimeoutSeconds, Defaults.stallTimeoutSeconds, Limits.stallTimeoutSeconds) * 1000,
        applyBundle: parseBoolean(Inputs.bundle, Defaults.bundle),
        failOnCacheMiss: parseBoolean(Inputs.failOnCacheMiss, Defaults.failOnCacheMiss),
        destination,
        keepSnapshotHead,
        token,
        persistCredentials: parseBoolean(Inputs.persistCredentials, Defaults.persistCredentials),
        setSafeDirectory: parseBoolean(Inputs.setSafeDirectory, Defaults.setSafeDirectory),
        gitThroughCachew: parseBoolean(Inputs.gitThroughCachew, Defaults.gitThroughCachew),
        runnerCacheDir: parseRunnerCache(env),
        runnerCacheMaxBytes: parseInteger(Inputs.runnerCacheMaxGb, Defaults.runnerCacheMaxGb, Limits.runnerCacheMaxGb) *
            1024 ** 3,
        updateExisting: parseUpdateExisting(),
        lfs: parseBoolean(Inputs.lfs, Defaults.lfs),
        showProgress: parseBoolean(Inputs.showProgress, Defaults.showProgress),
        clean: parseBoolean(Inputs.clean, Defaults.clean),
        ssh: parseSsh(repositoryUrl),
        sparseCheckout: parseSparseCheckout(),
        superseded: parseSuperseded(),
        submodules: parseSubmodules()
    };
}
/** What an HTTP header value cannot carry: line breaks, other control characters, non-Latin-1. */
const HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/**
 * A line break would end the header and let the rest of the value inject further headers,
 * into the action's requests and git's. The message never echoes the secret.
 */
function refuseUnsendable(name, value, unsendable) {
    if (!unsendable.test(value))
        return;
    throw new errors/* InputError */.dz(name, 'contains a line break or another character an HTTP header cannot carry; remove it');
}
/**
 * Where the checkout ends, from the inputs and the workflow's context. Refuses what could only
 * fail after the download: `keep-snapshot-head` with a `ref`, a `ref` that cannot name a
 * branch, tag, ref or commit, and a GITHUB_SHA that is no commit.
 */
function chooseDestination(inputs, workflow) {
    const ref = inputs.ref.trim();
    if (inputs.keepSnapshotHead) {
        if (ref) {
            throw new errors/* InputError */.dz(Inputs.keepSnapshotHead, `cannot be combined with ref ${quoted(ref)}; set one or the other (keep-snapshot-head: false, or no ref)`);
        }
        return { kind: 'snapshot' };
    }
    if (ref) {
        const destination = destinationOfRefInput(ref);
        if (destination)
            return destination;
        throw new errors/* InputError */.dz(Inputs.ref, `${quoted(ref)} is not a valid ref (${refInputProblem(ref)}); use a branch or ` +
            'tag name, a full ref such as refs/heads/main or refs/pull/1/merge, or a full commit SHA');
    }
    if (workflow.sha && isWorkflowRepository(inputs.repositoryUrl, workflow)) {
        if (!isFullSha(workflow.sha)) {
            throw new errors/* ExpectedError */.Dh(`GITHUB_SHA ${quoted(workflow.sha)} is not a full commit SHA; the runner sets it ` +
                "to the workflow's commit (outside a workflow, unset it or name the commit in 'ref')");
        }
        return destinationOfWorkflow(workflow.sha, workflow.ref);
    }
    return { kind: 'snapshot' };
}
/** The value in quotes for a message, control characters escaped so the line stays one line. */
function quoted(text) {
    return `'${JSON.stringify(text).slice(1, -1)}'`;
}
/** `auto` turns the cache on where disks outlive the job: self-hosted runners. */
function parseRunnerCache(env) {
    const raw = readInput(Inputs.runnerCache) || Defaults.runnerCache;
    let on;
    if (raw === 'auto')
        on = env.RUNNER_ENVIRONMENT === 'self-hosted';
    else if (TRUE_WORDS.includes(raw))
        on = true;
    else if (FALSE_WORDS.includes(raw))
        on = false;
    else
        throw new errors/* InputError */.dz(Inputs.runnerCache, `'${raw}' is not allowed; use auto, true or false`);
    return on ? (env.RUNNER_TOOL_CACHE ?? '') : undefined;
}
function parseInteger(name, fallback, range) {
    const raw = readInput(name);
    if (raw === '')
        return fallback;
    const allowed = `a whole number from ${range.min} to ${range.max}`;
    if (!/^\d+$/.test(raw))
        throw new errors/* InputError */.dz(name, `'${raw}' is not ${allowed}`);
    const value = Number(raw);
    if (value < range.min || value > range.max)
        throw new errors/* InputError */.dz(name, `${raw} is out of range; use ${allowed}`);
    return value;
}
const TRUE_WORDS = ['true', 'True', 'TRUE'];
const FALSE_WORDS = ['false', 'False', 'FALSE'];
function parseBoolean(name, fallback) {
    const raw = readInput(name);
    if (raw === '')
        return fallback;
    if (TRUE_WORDS.includes(raw))
        return true;
    if (FALSE_WORDS.includes(raw))
        return false;
    throw new errors/* InputError */.dz(name, `'${raw}' is not a boolean; use true or false`);
}
function parseUpdateExisting() {
    const raw = readInput(Inputs.updateExisting);
    if (raw === '')
        return Defaults.updateExisting;
    if (raw.toLowerCase() === 'auto')
        return 'auto';
    if (FALSE_WORDS.includes(raw))
        return 'false';
    throw new errors/* InputError */.dz(Inputs.updateExisting, `'${raw}' is not allowed; use auto or false`);
}
/** A whole number, 0 or more, as checkout's fetch-depth takes it (0: all history). */
function parseFetchDepth() {
    const raw = readInput(Inputs.fetchDepth);
    if (raw === '')
        return Defaults.fetchDepth;
    if (!/^\d+$/.test(raw)) {
        throw new errors/* InputError */.dz(Inputs.fetchDepth, `'${raw}' is not a whole number, 0 or more (0 is all history)`);
    }
    return Number(raw);
}
/** checkout's inputs that a full snapshot supersedes, those the workflow set, validated. */
function parseSuperseded() {
    const superseded = [];
    const depth = parseFetchDepth();
    if (depth !== Defaults.fetchDepth)
        superseded.push(SUPERSEDED.fetchDepth(depth));
    if (parseBoolean(Inputs.fetchTags, Defaults.fetchTags))
        superseded.push(SUPERSEDED.fetchTags);
    const filter = readInput(Inputs.filter);
    if (filter) {
        const problem = filterSpecProblem(filter);
        if (problem)
            throw new errors/* InputError */.dz(Inputs.filter, problem);
        superseded.push(SUPERSEDED.filter(filter));
    }
    return superseded;
}
/**
 * One pattern a line, as checkout reads it; the mode matters only with patterns, as there
 * (it is still validated). Cone mode takes directories: what git would refuse after the
 * download is refused here, naming the input.
 */
function parseSparseCheckout() {
    const patterns = getInput(Inputs.sparseCheckout)
        .split('\n')
        .map(line => line.trim())
        .filter(line => line !== '');
    const cone = parseBoolean(Inputs.sparseCheckoutConeMode, Defaults.sparseCheckoutConeMode);
    if (patterns.length === 0)
        return undefined;
    if (cone) {
        for (const pattern of patterns) {
            const problem = (0,sparse_set/* conePatternProblem */.H)(pattern);
            if (problem)
                throw new errors/* InputError */.dz(Inputs.sparseCheckout, `${problem} (cone mode)`);
        }
    }
    return { patterns, cone };
}
function parseSubmodules() {
    const raw = readInput(Inputs.submodules);
    if (raw === '')
        return Defaults.submodules;
    if (raw.toLowerCase() === 'recursive')
        return 'recursive';
    if (TRUE_WORDS.includes(raw))
        return 'true';
    if (FALSE_WORDS.includes(raw))
        return 'false';
    throw new errors/* InputError */.dz(Inputs.submodules, `'${raw}' is not allowed; use false, true or recursive`);
}
/** A user name ssh takes as one word, never as an option. */
const SSH_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
function parseSsh(repositoryUrl) {
    const strict = parseBoolean(Inputs.sshStrict, Defaults.sshStrict);
    const user = readInput(Inputs.sshUser) || Defaults.sshUser;
    if (!SSH_USER.test(user)) {
        throw new errors/* InputError */.dz(Inputs.sshUser, `'${user}' is not a user name ssh can take; use letters, digits, '_', '.' and '-' ` +
            "(not first), such as 'git'");
    }
    const key = readInput(Inputs.sshKey);
    if (!key)
        return undefined;
    // A secret of several lines is masked line by line: the log shows lines one at a time.
    for (const line of key.split('\n').map(text => text.trim())) {
        if (line !== '' && !line.startsWith('-----'))
            setSecret(line);
    }
    return {
        key,
        knownHosts: readInput(Inputs.sshKnownHosts),
        strict,
        originUrl: sshOriginUrl(repositoryUrl, user)
    };
}
/**
 * allow-unsafe-pr-checkout (src/git/fork-pull-request.ts). A workflow restoring its own
 * repository without a `ref` gets the commit GitHub chose for the event, trusted code: only
 * a `ref` or another repository can reach a fork's code.
 */
function refuseForkCodeInTrustedWorkflow(inputs, workflow, env) {
    if (parseBoolean(Inputs.allowUnsafePrCheckout, Defaults.allowUnsafePrCheckout))
        return;
    const eventName = workflow.eventName;
    if (!eventName || !TRUSTED_PULL_REQUEST_EVENTS.includes(eventName))
        return;
    if (!inputs.ref.trim() && isWorkflowRepository(inputs.repositoryUrl, workflow))
        return;
    const matched = forkCodeInTrustedWorkflow({
        eventName,
        payload: readEventPayload(env),
        isRepository: fullName => isWorkflowRepository(inputs.repositoryUrl, { ...workflow, repository: fullName }),
        destination: inputs.destination
    });
    if (!matched)
        return;
    throw new errors/* ExpectedError */.Dh(`Refusing to restore a fork's pull request code (${matched}) in a '${eventName}' ` +
        "workflow: it runs with the base repository's token, secrets, cache and runner, which " +
        "the fork's code could then use. Set 'allow-unsafe-pr-checkout: true' on this step only " +
        'after reviewing the risks at https://gh.io/securely-using-pull_request_target.');
}
/** The event's payload, or undefined when the runner gives none (or it cannot be read). */
function readEventPayload(env) {
    if (!env.GITHUB_EVENT_PATH)
        return undefined;
    try {
        return JSON.parse(external_node_fs_.readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    }
    catch {
        return undefined;
    }
}
function parseServerUrl(raw) {
    const name = Inputs.serverUrl;
    if (raw === '')
        throw new errors/* InputError */.dz(name, 'required: the cachew base URL, e.g. https://cachew.example.com (or set CACHEW_URL)');
    let url;
    try {
        url = new URL(raw);
    }
    catch {
        throw new errors/* InputError */.dz(name, `'${raw}' is not a URL; use an http:// or https:// URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new errors/* InputError */.dz(name, `'${url.protocol}' URLs are not supported; use http:// or https://`);
    }
    if (url.username || url.password) {
        throw new errors/* InputError */.dz(name, 'credentials in the URL are not supported; use the authorization input');
    }
    if (url.search || url.hash)
        throw new errors/* InputError */.dz(name, 'must not have a query or fragment');
    return url.origin + url.pathname.replace(/\/+$/, '');
}
const OWNER_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/**
 * Accepts https://HOST/OWNER/REPO[.git], or OWNER/REPO on github-server-url's host, else the
 * workflow's (GITHUB_SERVER_URL), else github.com, as actions/checkout places OWNER/REPO.
 */
function parseRepository(raw, env) {
    const name = Inputs.repository;
    const githubServer = parseGithubServerUrl(readInput(Inputs.githubServerUrl));
    const value = raw || env.GITHUB_REPOSITORY || '';
    const allowed = 'use https://HOST/OWNER/REPO or OWNER/REPO';
    if (value === '')
        throw new errors/* InputError */.dz(name, `required outside a workflow; ${allowed}`);
    if (OWNER_REPO.test(value)) {
        // A URL would resolve '.' and '..' away, leaving another repository or none at all.
        const parts = value.replace(/\.git$/, '').split('/');
        if (parts.some(part => part === '' || part === '.' || part === '..')) {
            throw new errors/* InputError */.dz(name, `'${value}' is not a repository; ${allowed}`);
        }
        const server = (githubServer || env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
        return `${server}/${value.replace(/\.git$/, '')}`;
    }
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new errors/* InputError */.dz(name, `'${value}' is not a repository; ${allowed}`);
    }
    const repoPath = url.pathname
        .replace(/^\/+/, '')
        .replace(/\/+$/, '')
        .replace(/\.git$/, '');
    if (!/^https?:$/.test(url.protocol) ||
        !url.hostname ||
        repoPath === '' ||
        url.search ||
        url.hash) {
        throw new errors/* InputError */.dz(name, `'${value}' is not a repository URL; ${allowed}`);
    }
    if (url.username || url.password)
        throw new errors/* InputError */.dz(name, 'credentials in the URL are not supported');
    if (githubServer && githubServer !== url.origin) {
        throw new errors/* InputError */.dz(Inputs.githubServerUrl, `is ${githubServer}, but repository is a URL on ${url.origin}; leave one of them out ` +
            '(github-server-url applies to an OWNER/REPO repository)');
    }
    return `${url.protocol}//${url.host}/${repoPath}`;
}
/**
 * github-server-url, as its origin (SCHEME://HOST[:PORT]), as checkout builds the clone URL
 * from it; '' when not set.
 */
function parseGithubServerUrl(raw) {
    if (raw === '')
        return '';
    const name = Inputs.githubServerUrl;
    let url;
    try {
        url = new URL(raw);
    }
    catch {
        throw new errors/* InputError */.dz(name, `'${raw}' is not a URL; use one such as https://ghe.example.com`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new errors/* InputError */.dz(name, `'${url.protocol}' URLs are not supported; use https:// or http://`);
    }
    if (url.username || url.password) {
        throw new errors/* InputError */.dz(name, 'credentials in the URL are not supported; use the token input');
    }
    if (url.search || url.hash)
        throw new errors/* InputError */.dz(name, 'must not have a query or fragment');
    return url.origin;
}
function parseTargetPath(raw, workspace) {
    const target = external_node_path_.resolve(workspace, raw || '.');
    const relative = external_node_path_.relative(workspace, target);
    if (relative.startsWith('..') || external_node_path_.isAbsolute(relative)) {
        throw new errors/* InputError */.dz(Inputs.path, `'${raw}' resolves outside GITHUB_WORKSPACE (${workspace}); use a path inside it`);
    }
    return target;
}

;// CONCATENATED MODULE: ./src/main.ts
/**
 * The action's edge: read the settings, restore, publish outputs and the summary. The one
 * place that turns failures into the step's result: expected errors as their message,
 * anything else as an unexpected error with its stack in the debug log.
 */









/** Output names exactly as action.yml declares them. */
const Outputs = {
    cacheHit: 'cache-hit',
    commit: 'commit',
    snapshotCommit: 'snapshot-commit',
    ref: 'ref',
    bundleApplied: 'bundle-applied',
    snapshotSource: 'snapshot-source',
    downloadBytes: 'download-bytes',
    downloadSeconds: 'download-seconds',
    seconds: 'seconds',
    mode: 'mode'
};
const State = {
    isPost: 'isPost',
    repository: 'repository',
    gitConfig: 'git-config',
    safeDirectory: 'safe-directory'
};
const coreLog = {
    info: info,
    warning: message => warning(message),
    notice: message => notice(message),
    debug: debug,
    group: (name, fn) => group(name, fn)
};
async function run() {
    const stopListening = (0,cancellation/* cancelOnSignals */.dJ)(signal => info(`Received ${signal}: cancelling, and putting everything back as it was.`));
    try {
        if (getState(State.isPost) === 'true')
            await post();
        else
            await main();
    }
    catch (error) {
        fail(error);
    }
    finally {
        stopListening();
    }
}
async function main() {
    saveState(State.isPost, 'true');
    const settings = readSettings();
    reportCheckoutInputs(settings);
    // Alongside the restore, which waits for it before its own git touches the target (an
    // update in place), so that the action's git accepts a checkout another user owns, as
    // later steps' git will. Its two git processes then cost the restore nothing.
    const trusted = settings.setSafeDirectory ? trustRepository(settings.target) : Promise.resolve();
    let result;
    try {
        result = await restore(settings, coreLog, trusted);
    }
    catch (error) {
        if (error instanceof errors/* CacheMissError */.dE && !settings.failOnCacheMiss) {
            warning(`${error.message} Nothing was restored; continue with another checkout (cache-hit is false).`);
            setOutput(Outputs.cacheHit, 'false');
            return;
        }
        throw error;
    }
    finally {
        // Its state must be saved whatever became of the restore: the post step removes the entry.
        await trusted;
    }
    if (result.gitConfigFile) {
        saveState(State.repository, settings.target);
        saveState(State.gitConfig, result.gitConfigFile);
    }
    publish(result);
    writeSummary(result);
}
/** Once, before the restore: the actions/checkout inputs the snapshot makes moot (one info line). */
function reportCheckoutInputs(settings) {
    const superseded = describeSuperseded(settings.superseded);
    if (superseded)
        info(superseded);
}
function publish(result) {
    setOutput(Outputs.cacheHit, 'true');
    setOutput(Outputs.commit, result.commit);
    setOutput(Outputs.snapshotCommit, result.snapshotCommit ?? '');
    setOutput(Outputs.ref, result.ref);
    setOutput(Outputs.bundleApplied, String(result.bundleApplied));
    setOutput(Outputs.snapshotSource, result.source ?? '');
    setOutput(Outputs.downloadBytes, String(result.download.bytes));
    setOutput(Outputs.downloadSeconds, result.snapshotSeconds.toFixed(3));
    setOutput(Outputs.seconds, result.seconds.toFixed(3));
    setOutput(Outputs.mode, result.mode);
    const how = result.mode === 'in-place' ? 'Updated the existing checkout of' : 'Restored';
    info(`${how} ${result.repositoryUrl} at ${result.commit} (${result.ref}) in ${result.seconds.toFixed(1)} s.`);
}
/**
 * set-safe-directory: a failure is a warning, as with actions/checkout; git in later steps
 * then refuses the repository only if another user owns it.
 */
async function trustRepository(target) {
    try {
        const added = await addSafeDirectory(target);
        if (added === undefined)
            return;
        saveState(State.safeDirectory, added);
        info(`Added ${added} to git's global safe.directory for this job.`);
    }
    catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        warning(`Could not add ${target} to git's global safe.directory (${reason}); git may refuse ` +
            'the repository in later steps if another user owns it (detected dubious ownership).');
    }
}
/**
 * The post step: removes the git credentials the main step left for later steps, then the
 * safe.directory entry, in the order actions/checkout's post step removes its own.
 */
async function post() {
    const repository = getState(State.repository);
    const configFile = getState(State.gitConfig);
    const safeDirectory = getState(State.safeDirectory);
    try {
        if (repository && configFile) {
            await removeGitAccess(repository, configFile);
            info('Removed the git credentials this action configured.');
        }
    }
    finally {
        if (safeDirectory) {
            await removeSafeDirectory(safeDirectory);
            info(`Removed ${safeDirectory} from git's global safe.directory.`);
        }
    }
}
function fail(error) {
    if (error instanceof errors/* ExpectedError */.Dh) {
        setFailed(error.message);
        return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.stack)
        debug(error.stack);
    setFailed(`cachew-restore failed unexpectedly: ${message}`);
}


/***/ })

};
