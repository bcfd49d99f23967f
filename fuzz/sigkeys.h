/* sigkeys.h - written by fuzz/mkcorpus: the SigningKeys whose
 * private halves signed the seeds in fuzz/corpus/jws. */
#ifndef KF_FUZZ_SIGKEYS_H
#define KF_FUZZ_SIGKEYS_H

#define FUZZ_ED25519_PEM \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MCowBQYDK2VwAyEAdcqlGOF19OX8JIH5ryv5FDGr5FQks3xOi25gIikXQ2I=\n" \
	"-----END PUBLIC KEY-----\n" \
	""

#define FUZZ_P256_PEM \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtjeLLtrMg5ZZCToH8ord7BXyfzCo\n" \
	"sW4xZomR8ARkZ5AvAaVVFj8/J+Qqd47sVYi5MaacD6Rj2oUghS7HTl3GQg==\n" \
	"-----END PUBLIC KEY-----\n" \
	""

#endif /* KF_FUZZ_SIGKEYS_H */
