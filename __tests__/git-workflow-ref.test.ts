import { describe, expect, it } from '@jest/globals'
import { ExpectedError, InputError } from '../src/errors.js'
import {
  describeDestination,
  isValidRefName,
  isWorkflowRepository,
  readWorkflowContext,
  refInputProblem
} from '../src/git/workflow-ref.js'
import { chooseDestination } from '../src/settings.js'

const SHA = 'a'.repeat(40)
const REPO = 'https://github.com/acme/widgets'
const inputs = (ref = '', keepSnapshotHead = false) => ({
  ref,
  keepSnapshotHead,
  repositoryUrl: REPO
})

describe('readWorkflowContext', () => {
  it('reads the runner variables and treats empty ones as absent', () => {
    expect(
      readWorkflowContext({
        GITHUB_SHA: SHA,
        GITHUB_REF: 'refs/heads/main',
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REPOSITORY: 'acme/widgets',
        GITHUB_SERVER_URL: ''
      })
    ).toEqual({
      sha: SHA,
      ref: 'refs/heads/main',
      eventName: 'push',
      repository: 'acme/widgets',
      serverUrl: undefined
    })
  })
})

describe('chooseDestination in a workflow', () => {
  it('stays on the pushed branch at GITHUB_SHA', () => {
    const workflow = { sha: SHA.toUpperCase(), ref: 'refs/heads/feature/x', eventName: 'push' }
    expect(chooseDestination(inputs(), workflow)).toEqual({
      kind: 'branch',
      branch: 'feature/x',
      commit: SHA
    })
  })

  it('detaches at the merge commit of a pull request', () => {
    const workflow = { sha: SHA, ref: 'refs/pull/12/merge', eventName: 'pull_request' }
    expect(chooseDestination(inputs(), workflow)).toEqual({
      kind: 'detached-ref',
      ref: 'refs/pull/12/merge',
      commit: SHA
    })
  })

  it('detaches at a tag', () => {
    const workflow = { sha: SHA, ref: 'refs/tags/v1.2', eventName: 'push' }
    expect(chooseDestination(inputs(), workflow)).toEqual({ kind: 'tag', tag: 'v1.2', commit: SHA })
  })

  it('takes an unqualified GITHUB_REF (a merged pull request closed) as a branch, as checkout does', () => {
    const workflow = { sha: SHA, ref: 'main', eventName: 'pull_request' }
    expect(chooseDestination(inputs(), workflow)).toEqual({
      kind: 'branch',
      branch: 'main',
      commit: SHA
    })
  })

  it('detaches at GITHUB_SHA when there is no GITHUB_REF', () => {
    expect(chooseDestination(inputs(), { sha: SHA })).toEqual({ kind: 'commit', commit: SHA })
  })

  it('lets the ref input override the workflow commit', () => {
    const workflow = { sha: SHA, ref: 'refs/heads/main', eventName: 'push' }
    expect(chooseDestination(inputs('release'), workflow)).toEqual({
      kind: 'branch-or-tag',
      name: 'release'
    })
  })

  it('keeps the snapshot head when asked, whatever the workflow says', () => {
    const workflow = { sha: SHA, ref: 'refs/heads/main', eventName: 'push' }
    expect(chooseDestination(inputs('', true), workflow)).toEqual({ kind: 'snapshot' })
  })

  it('refuses keep-snapshot-head together with a ref, naming both', () => {
    const choose = () => chooseDestination(inputs('main', true), {})
    expect(choose).toThrow(InputError)
    expect(choose).toThrow(/keep-snapshot-head.*ref 'main'/)
  })

  it('refuses a GITHUB_SHA that is not a full commit SHA, before anything is fetched', () => {
    const choose = () => chooseDestination(inputs(), { sha: '--upload-pack=evil' })
    expect(choose).toThrow(ExpectedError)
    expect(choose).toThrow(/GITHUB_SHA '--upload-pack=evil' is not a full commit SHA/)
    // A ref input makes GITHUB_SHA irrelevant.
    expect(chooseDestination(inputs('main'), { sha: 'abc' })).toEqual({
      kind: 'branch-or-tag',
      name: 'main'
    })
  })

  it("ignores the workflow's commit when restoring another repository", () => {
    const workflow = { sha: SHA, ref: 'refs/heads/main', repository: 'acme/other' }
    expect(chooseDestination(inputs(), workflow)).toEqual({ kind: 'snapshot' })
  })
})

describe('chooseDestination outside a workflow', () => {
  it('stays at the snapshot head without a ref', () => {
    expect(chooseDestination(inputs(), {})).toEqual({ kind: 'snapshot' })
  })

  it.each([
    ['main', { kind: 'branch-or-tag', name: 'main' }],
    ['refs/heads/dev', { kind: 'branch', branch: 'dev' }],
    ['refs/tags/v2', { kind: 'tag', tag: 'v2' }],
    ['refs/pull/3/head', { kind: 'detached-ref', ref: 'refs/pull/3/head' }],
    [SHA.toUpperCase(), { kind: 'commit', commit: SHA }],
    ['b'.repeat(64), { kind: 'commit', commit: 'b'.repeat(64) }],
    // A short SHA is a name, as with actions/checkout.
    ['abc1234', { kind: 'branch-or-tag', name: 'abc1234' }]
  ])('reads ref input %s', (ref, expected) => {
    expect(chooseDestination(inputs(ref), {})).toEqual(expected)
  })
})

describe('isWorkflowRepository', () => {
  it('matches OWNER/REPO case-insensitively and checks the host when known', () => {
    expect(isWorkflowRepository(REPO, { repository: 'ACME/Widgets' })).toBe(true)
    expect(isWorkflowRepository(REPO + '.git', { repository: 'acme/widgets' })).toBe(true)
    const ghes = { repository: 'acme/widgets', serverUrl: 'https://ghes.example.com' }
    expect(isWorkflowRepository(REPO, ghes)).toBe(false)
    expect(isWorkflowRepository(REPO, { ...ghes, serverUrl: 'https://github.com' })).toBe(true)
  })
})

describe('describeDestination', () => {
  it('names the destination for the log', () => {
    expect(describeDestination({ kind: 'branch', branch: 'main', commit: SHA })).toBe(
      `branch main at ${SHA}`
    )
    expect(describeDestination({ kind: 'snapshot' })).toBe("the snapshot's head")
  })
})

describe('ref input validation', () => {
  it.each([
    '--upload-pack=x',
    'a..b',
    'a b',
    'refs/heads/-x',
    'x.lock',
    'a//b',
    'a/',
    '@',
    'a@{1}',
    'a~1',
    '.hidden',
    '/main',
    'refs/heads',
    'refs/tags',
    'a\nb'
  ])('refuses %j, naming the input, why, and what is allowed', ref => {
    const choose = () => chooseDestination(inputs(ref), {})
    expect(choose).toThrow(InputError)
    expect(choose).toThrow(/^Input 'ref': '.*' is not a valid ref \(.+\); use a branch or tag name/)
  })

  it.each([
    ['bad..ref', "it contains '..'"],
    ['x.lock', "a part of it ends with '.lock'"],
    ['refs/heads/-x', "a part of it starts with '-'"],
    ['a b', 'it contains a space or a control character'],
    ['refs/heads', 'it names no branch or tag']
  ])('says why %s is refused: %s', (ref, why) => {
    expect(refInputProblem(ref)).toBe(why)
  })

  it('keeps a line break out of the message', () => {
    expect(() => chooseDestination(inputs('a\nb'), {})).toThrow("Input 'ref': 'a\\nb' is not")
  })

  it.each(['feature/x-1', 'v1.2.3', 'refs/pull/7/merge', 'release_2026'])('accepts %s', ref => {
    expect(isValidRefName(ref)).toBe(true)
  })
})
