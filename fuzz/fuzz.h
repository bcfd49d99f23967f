/*
 * fuzz.h - what keyfleet's libFuzzer targets share: a quiet context with a
 * fixed clock, files for the configuration's SigningKey (and secret file)
 * keywords in a private directory, and checks of what the library
 * promises about the lines it hands to sshd.
 */
#ifndef KF_FUZZ_H
#define KF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "authkey.h"
#include "config_file.h"
#include "ctx.h"

/* The clock of every target, as the unit tests': 2026-09-21T14:13:20Z. */
#define FUZZ_NOW	((time_t)1790000000)

/*
 * Where fuzz_files() puts ed25519.pem, p256.pem, both.pem (both keys),
 * ca.pem, token and client.key; the seed configurations name these
 * paths.  While a target has fuzz_confine() on, the library may open
 * nothing else.
 */
#define FUZZ_DIR	"/tmp/keyfleet-fuzz"

/* Fails the run (libFuzzer saves the input) when cond is false. */
#define FUZZ_CHECK(cond) \
	((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
void	fuzz_fail(const char *file, int line, const char *what)
	    __attribute__((noreturn));

/*
 * A context whose log callback discards every message after checking it
 * is one printable line, with the verbosity of "debug" so that all the
 * formatting runs, and whose clock says FUZZ_NOW.
 */
struct kf_ctx	*fuzz_ctx(void);

/* Creates FUZZ_DIR and its files (once per process). */
void		 fuzz_files(void);

/* Confines open(2) from the library to FUZZ_DIR (on) or not (off). */
void		 fuzz_confine(int on);

/*
 * Parses a configuration made for a target (it must be valid) into a new
 * struct kf_config.
 */
struct kf_config *fuzz_config(const char *text);

/* A stricter policy than the default, so both paths of each check run. */
struct kf_key_policy fuzz_policy_strict(void);

/*
 * Checks a key kf_authkey_build() accepted: one line of printable ASCII
 * that sshd reads as [OPTIONS] TYPE BASE64 [COMMENT] with the same blob,
 * and that builds again, without its options, into the same key part.
 */
void	fuzz_check_key(const struct kf_key_policy *policy,
	    const struct kf_authkey *key);

/* Reads all of s, so that AddressSanitizer sees a bad one. */
void	fuzz_touch(const char *s);
extern volatile size_t fuzz_touched;

/* Checks that why is a readable reason (NULL only for KF_ERR_NOMEM). */
void	fuzz_check_why(int r, const char *why);

/* libFuzzer's own mutator, for custom mutators to fall back on. */
size_t	LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/*
 * A mutation for inputs that carry binary data as base64 (key blobs, JWS
 * segments): one of the base64 (url: base64url) words in data, chosen by
 * seed, is decoded, mutated by libFuzzer and encoded again, so that the
 * fuzzer changes the structure inside rather than the encoding.  Returns
 * the new size, or 0 when there is no such word to mutate.
 */
size_t	fuzz_mutate_b64(uint8_t *data, size_t size, size_t max_size,
	    unsigned seed, int url);

#endif /* KF_FUZZ_H */
