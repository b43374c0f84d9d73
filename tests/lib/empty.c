/* Keeps the test helper library non-empty. */
typedef int credsync_testlib_empty;
