// Envelope encryption with the AWS Encryption SDK for JavaScript, whose KMS
// keyring talks to rampart. cmd/rampart/kms_cli_test.go drives it against
// `rampart dev`:
//
//   node roundtrip.mjs roundtrip --endpoint URL --key ARN [--key ARN2] [--out FILE]
//       encrypts a message under the keys (the first generates the data key,
//       the others encrypt it), decrypts it, checks plaintext and encryption
//       context, and writes the message to FILE;
//   node roundtrip.mjs decrypt --endpoint URL --key ARN --in FILE
//       decrypts FILE with a keyring of the given keys;
//   node roundtrip.mjs encrypt --endpoint URL --key ARN
//       encrypts a message.
//
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN); the region from each key's ARN. The last line on
// stdout is one JSON object: {"ok":true,…} or {"ok":false,"error":NAME,
// "message":…}; the exit status is 0 on success, 2 when the SDK or KMS
// refused, 1 on a usage error.

import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { KMS } from '@aws-sdk/client-kms'
import {
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
} from '@aws-crypto/client-node'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    key: { type: 'string', multiple: true },
    in: { type: 'string' },
    out: { type: 'string' },
  },
})

function usage(msg) {
  console.log(JSON.stringify({ ok: false, error: 'Usage', message: msg }))
  process.exit(1)
}

const command = positionals[0]
if (!['roundtrip', 'encrypt', 'decrypt'].includes(command)) usage(`unknown command ${command}`)
if (!values.endpoint) usage('--endpoint is required')
if (!values.key?.length) usage('--key is required')
if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) usage('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required')

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
}

// The keyring calls client.generateDataKey/encrypt/decrypt, the methods of
// the aggregated KMS client (a KMSClient with one method per operation).
// One client per region, every one pointed at rampart.
const clients = new Map()
const calls = []
function clientProvider(region) {
  if (!clients.has(region)) {
    const kms = new KMS({ endpoint: values.endpoint, region, credentials, maxAttempts: 1 })
    kms.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName)
        return next(args)
      },
      { step: 'initialize', name: 'recordCalls' },
    )
    clients.set(region, kms)
  }
  return clients.get(region)
}

const [generatorKeyId, ...keyIds] = values.key
const keyring = new KmsKeyringNode({ generatorKeyId, keyIds, clientProvider })
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

const context = { purpose: 'rampart encryption-sdk test', stage: 'ci' }
const plaintext = Buffer.from('Envelope encryption through rampart: ' + 'x'.repeat(1000))

function checkContext(header) {
  for (const [k, v] of Object.entries(context)) {
    if (header.encryptionContext[k] !== v) {
      throw Object.assign(new Error(`encryption context ${k}=${header.encryptionContext[k]}, want ${v}`), { name: 'ContextMismatch' })
    }
  }
}

function done(result) {
  console.log(JSON.stringify({ ok: true, calls, ...result }))
}

try {
  switch (command) {
    case 'encrypt':
    case 'roundtrip': {
      const { result, messageHeader } = await encrypt(keyring, plaintext, { encryptionContext: context })
      if (result.includes(plaintext.subarray(0, 32))) {
        throw Object.assign(new Error('the message contains the plaintext'), { name: 'PlaintextLeak' })
      }
      const edks = messageHeader.encryptedDataKeys.map((k) => k.providerInfo)
      if (values.out) writeFileSync(values.out, result)
      if (command === 'encrypt') {
        done({ bytes: result.length, encryptedDataKeys: edks })
        break
      }
      const dec = await decrypt(keyring, result)
      if (!Buffer.from(dec.plaintext).equals(plaintext)) {
        throw Object.assign(new Error('decrypted plaintext differs'), { name: 'PlaintextMismatch' })
      }
      checkContext(dec.messageHeader)
      done({ bytes: result.length, encryptedDataKeys: edks, algorithm: messageHeader.suiteId })
      break
    }
    case 'decrypt': {
      if (!values.in) usage('--in is required')
      const dec = await decrypt(keyring, readFileSync(values.in))
      if (!Buffer.from(dec.plaintext).equals(plaintext)) {
        throw Object.assign(new Error('decrypted plaintext differs'), { name: 'PlaintextMismatch' })
      }
      checkContext(dec.messageHeader)
      done({ bytes: dec.plaintext.length })
      break
    }
  }
} catch (err) {
  // The keyring gathers KMS's errors into one Error whose message lists
  // them ("DisabledException: … is disabled."); report their names, and
  // the message without stack frames.
  const message = String(err.message).split('\n').filter((l) => !/^\s+at /.test(l)).join(' ').replace(/\s+/g, ' ').trim()
  const names = [...new Set([err.name, ...(message.match(/\b[A-Z][A-Za-z]*Exception\b/g) ?? [])])]
  console.log(JSON.stringify({ ok: false, calls, error: names[names.length - 1], errors: names, message }))
  process.exit(2)
}
