import { describe, expect, it } from '@jest/globals'
import { run } from '../src/main.js'
describe('smoke', () => {
  it('runs', async () => {
    await run()
    expect(1).toBe(1)
  })
})
