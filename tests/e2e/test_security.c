/* End-to-end: TLS and SASL settings for Kafka and sslmode for PostgreSQL pass through
 * credsyncd's configuration to librdkafka and libpq, with their reasons when refused, and
 * their secrets never shown. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

TestSuite(security, .fini = e2e_cleanup);

/* Writes a configuration into dir/name: the harness's broker and database (conninfo_extra
 * appended to the conninfo), then lines. Returns the path (static buffer). */
static const char *
write_config(const struct e2e *e, const char *name, const char *conninfo_extra, const char *lines)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	FILE *fp = fopen(path, "w");
	cr_assert(fp != NULL, "could not write %s", path);
	fprintf(fp,
	        "kafka.bootstrap.servers = %s\n"
	        "pg.conninfo = %s %s\n"
	        "data.dir = %s\n"
	        "%s",
	        e->bootstrap, e->conninfo, conninfo_extra, getenv("CREDSYNC_SCHEMAS"), lines);
	fclose(fp);
	return path;
}

/* Runs credsyncd with args after -c path; its output (and error) in *out; the exit status. */
static int
credsyncd(char **out, const char *path, const char *arg)
{
	char bin[1024];
	snprintf(bin, sizeof(bin), "%s/credsyncd", getenv("CREDSYNC_BIN"));
	const char *argv[] = {bin, "-c", path, arg, NULL};
	return e2e_run(out, argv, true);
}

/* A CA bundle that exists on every Debian system with ca-certificates: only read, never
 * trusted for anything here. */
#define CA_FILE "/etc/ssl/certs/ca-certificates.crt"

Test(security, tls_and_sasl_settings_are_accepted_and_the_password_masked, .timeout = 120)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	char *out;
	const char *path = write_config(&e, "tls.conf", "sslmode=verify-full sslrootcert=" CA_FILE,
	                                "kafka.security.protocol = SASL_SSL\n"
	                                "kafka.ssl.ca.location = " CA_FILE "\n"
	                                "kafka.sasl.mechanisms = SCRAM-SHA-512\n"
	                                "kafka.sasl.username = credsync\n"
	                                "kafka.sasl.password = k4fka-s3cret\n");
	int rc = credsyncd(&out, path, "--check");
	cr_expect_eq(rc, 0, "credsyncd --check exited %d:\n%s", rc, out);
	static const char *const shown[] = {
	    "kafka.security.protocol = SASL_SSL",    "kafka.ssl.ca.location = " CA_FILE,
	    "kafka.sasl.mechanisms = SCRAM-SHA-512", "kafka.sasl.username = credsync",
	    "kafka.sasl.password = ********",        "sslmode=verify-full sslrootcert=" CA_FILE,
	};
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		cr_expect(strstr(out, shown[i]) != NULL, "no \"%s\" in:\n%s", shown[i], out);
	cr_expect(strstr(out, "k4fka-s3cret") == NULL, "the password is shown:\n%s", out);
	free(out);
	e2e_stop(&e);
}

/* Each refused by librdkafka with its own reason naming the property and the file's line, at
 * --check (the configuration) or at start (the handle: the CA file is read then). The reason
 * is a quoted logfmt value: its quotes come escaped. */
Test(security, a_kafka_setting_librdkafka_refuses_is_named, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	static const struct {
		const char *lines, *arg, *want;
	} cases[] = {
	    {"kafka.security.protocol = TLS-please\n", "--check",
	     ".conf:4: invalid Kafka property \\\"security.protocol\\\": Invalid value "
	     "\\\"TLS-please\\\" for configuration property \\\"security.protocol\\\""},
	    {"kafka.sasl.mechanisms = PLAIN\nkafka.sasl.username = u\n"
	     "kafka.sasl.password = p4ss-s3cret\nkafka.ssl.ca.location = " CA_FILE "\n"
	     "kafka.security.protocol = SASL_PLAINTEXT\nkafka.ssl.endpoint.identification."
	     "algorithm = sideways\n",
	     "--check",
	     ".conf:9: invalid Kafka property \\\"ssl.endpoint.identification.algorithm\\\": "
	     "Invalid value \\\"sideways\\\""},
	    {"kafka.security.protocol = SSL\nkafka.ssl.ca.location = /nonexistent/ca.pem\n", NULL,
	     "ssl.ca.location failed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32], *out;
		snprintf(name, sizeof(name), "bad-%zu.conf", i);
		const char *path = write_config(&e, name, "", cases[i].lines);
		int rc = credsyncd(&out, path, cases[i].arg);
		cr_expect_eq(rc, 1, "case %zu: credsyncd exited %d:\n%s", i, rc, out);
		cr_expect(strstr(out, cases[i].want) != NULL, "case %zu: no \"%s\" in:\n%s", i,
		          cases[i].want, out);
		cr_expect(strstr(out, "s3cret") == NULL, "case %zu: a secret is shown:\n%s", i,
		          out);
		free(out);
	}
	e2e_stop(&e);
}

/* The test server has no TLS: sslmode=require reaches libpq, which refuses, and its reason
 * is what the operator reads. */
Test(security, sslmode_require_without_tls_fails_with_libpqs_reason, .timeout = 120)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	char *out;
	const char *path = write_config(&e, "ssl.conf", "sslmode=require", "");
	int rc = credsyncd(&out, path, "--migrate-only");
	cr_expect_eq(rc, 1, "credsyncd --migrate-only exited %d:\n%s", rc, out);
	cr_expect(strstr(out, "could not connect to PostgreSQL") != NULL, "%s", out);
	cr_expect(strstr(out, "server does not support SSL, but SSL was required") != NULL, "%s",
	          out);
	free(out);

	/* the same conninfo without sslmode migrates: the failure was TLS's */
	path = write_config(&e, "plain.conf", "sslmode=disable", "");
	rc = credsyncd(&out, path, "--migrate-only");
	cr_expect_eq(rc, 0, "credsyncd --migrate-only exited %d:\n%s", rc, out);
	cr_expect(strstr(out, "msg=migrated applied=") != NULL, "%s", out);
	free(out);
	e2e_stop(&e);
}
