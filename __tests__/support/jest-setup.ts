/** Runs in every test file (jest.config.js setupFilesAfterEnv). */
import { afterAll } from '@jest/globals'
import { removeTempDirectories } from './temp.js'

afterAll(removeTempDirectories)
