/* sigkeys.h - written by fuzz/mkcorpus: the SigningKeys whose
 * private halves signed the seeds in fuzz/corpus/jws. */
#ifndef KF_FUZZ_SIGKEYS_H
#define KF_FUZZ_SIGKEYS_H

#define FUZZ_ED25519_PEM \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MCowBQYDK2VwAyEAl3JUZPRNI0rW3rYr2cNUjYwnlaWta58klRjwf0QYVF0=\n" \
	"-----END PUBLIC KEY-----\n" \
	""

#define FUZZ_P256_PEM \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEt6UtsSmfjey6J/kfCduB/MHqEODg\n" \
	"jGUe+TLe6i//FR7Kc0B8V7/pw3MLAQolRw+GJ3S2lpiXwK7b6LfK26WoHw==\n" \
	"-----END PUBLIC KEY-----\n" \
	""

#endif /* KF_FUZZ_SIGKEYS_H */
