package kms

// recipientUnsupported is the answer to a Recipient parameter (a Nitro
// Enclaves attestation document) in an operation whose model does not
// declare UnsupportedOperationException (Decrypt, GenerateDataKey,
// DeriveSharedSecret): rampart cannot verify attestation documents, and a
// client can only map an error its model declares, so the refusal is the
// common ValidationException (GenerateDataKeyPair and GenerateRandom,
// which declare UnsupportedOperationException, answer that).
func recipientUnsupported() error {
	return validation("rampart does not support the Recipient parameter: it cannot verify Nitro Enclaves attestation documents.")
}
