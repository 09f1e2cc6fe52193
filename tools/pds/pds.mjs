// Starts a local AT Protocol network for tests: a PLC directory with an
// in-memory database and a PDS that registers its accounts there, both on
// loopback. When both serve, it prints one JSON line
//   {"pds":"http://127.0.0.1:<port>","plc":"http://127.0.0.1:<port>","handleDomain":".test"}
// and it stops on SIGTERM or SIGINT.
//
// Usage: node pds.mjs [--pds-port N] [--plc-port N] [--data-dir DIR]
// Each flag falls back to an environment variable (PDS_PORT, PLC_PORT,
// PDS_DATA_DIRECTORY); the data directory is required. PDS_JWT_SECRET, when
// set, is the secret session tokens are signed with (tests use it to make
// tokens the PDS sees as expired); otherwise it is random.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { parseArgs } from 'node:util'

import { Secp256k1Keypair } from '@atproto/crypto'
import { PDS, envToCfg, envToSecrets } from '@atproto/pds'
import plc from '@did-plc/server'

const handleDomain = '.test'

function options() {
  const { values } = parseArgs({
    options: {
      'pds-port': { type: 'string', default: process.env.PDS_PORT ?? '2583' },
      'plc-port': { type: 'string', default: process.env.PLC_PORT ?? '2582' },
      'data-dir': { type: 'string', default: process.env.PDS_DATA_DIRECTORY ?? '' },
    },
  })
  const port = (name) => {
    const n = Number(values[name])
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new Error(`--${name} must be a TCP port, got ${JSON.stringify(values[name])}`)
    }
    return n
  }
  if (!values['data-dir']) {
    throw new Error('--data-dir (or PDS_DATA_DIRECTORY) is required')
  }
  return { pdsPort: port('pds-port'), plcPort: port('plc-port'), dataDir: path.resolve(values['data-dir']) }
}

async function main() {
  const opts = options()
  fs.mkdirSync(path.join(opts.dataDir, 'blobs'), { recursive: true })

  const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: opts.plcPort })
  await plcServer.start()
  const plcURL = `http://127.0.0.1:${opts.plcPort}`

  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  // Secrets are made fresh for every run: the data directory is a test's
  // throwaway, never reused across runs.
  const env = {
    hostname: 'localhost',
    port: opts.pdsPort,
    devMode: true,
    dataDirectory: opts.dataDir,
    blobstoreDiskLocation: path.join(opts.dataDir, 'blobs'),
    jwtSecret: process.env.PDS_JWT_SECRET || crypto.randomBytes(32).toString('hex'),
    adminPassword: crypto.randomBytes(16).toString('hex'),
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
    didPlcUrl: plcURL,
    inviteRequired: false,
    serviceHandleDomains: [handleDomain],
    rateLimitsEnabled: true,
    crawlers: [],
    trustedOAuthClients: [],
    rateLimitBypassIps: [],
    handleBackupNameservers: [],
  }
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    try {
      await pds.destroy()
      await plcServer.destroy()
    } finally {
      process.exit(0)
    }
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)

  process.stdout.write(
    JSON.stringify({ pds: `http://127.0.0.1:${opts.pdsPort}`, plc: plcURL, handleDomain }) + '\n',
  )
}

main().catch((err) => {
  process.stderr.write(`pds: ${err?.stack ?? err}\n`)
  process.exit(1)
})
