/* test_e2e_memcheck: the e2e harness's reading of valgrind memcheck logs, on logs as valgrind
 * 3.19 writes them: what passes, what fails, and a SIGKILLed process's log without a summary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

#define HEAD                                                                                       \
	"==4242== Memcheck, a memory error detector\n"                                             \
	"==4242== Command: /build/daemon/credsyncd -c /tmp/x/credsyncd-0.conf\n"                   \
	"==4242== \n"

#define ERROR_REPORT                                                                               \
	"==4242== Invalid read of size 4\n"                                                        \
	"==4242==    at 0x10A1B2: pipeline_apply (pipeline.c:321)\n"                               \
	"==4242==  Address 0x4a8b0c4 is 4 bytes after a block of size 16 alloc'd\n"                \
	"==4242== \n"

#define UNINIT_REPORT                                                                              \
	"==4242== Conditional jump or move depends on uninitialised value(s)\n"                    \
	"==4242==    at 0x10A1B2: config_load (config.c:99)\n"                                     \
	"==4242== \n"

#define LEAK_SUMMARY(definite)                                                                     \
	"==4242== HEAP SUMMARY:\n"                                                                 \
	"==4242==     in use at exit: 1,024 bytes in 3 blocks\n"                                   \
	"==4242== LEAK SUMMARY:\n"                                                                 \
	"==4242==    definitely lost: " definite " bytes in 1 blocks\n"                            \
	"==4242==    indirectly lost: 0 bytes in 0 blocks\n"                                       \
	"==4242==      possibly lost: 304 bytes in 1 blocks\n"                                     \
	"==4242==    still reachable: 720 bytes in 2 blocks\n"

#define SUMMARY(n)                                                                                 \
	"==4242== ERROR SUMMARY: " n " errors from " n " contexts (suppressed: 0 from 0)\n"

static const struct {
	const char *name, *log;
	bool clean;
	const char *why; /* a part of the reason, when not clean */
} cases[] = {
    {"clean, all freed",
     HEAD "==4242== All heap blocks were freed -- no leaks are possible\n" SUMMARY("0"), true,
     NULL},
    {"clean, only reachable and possible leaks", HEAD LEAK_SUMMARY("0") SUMMARY("0"), true, NULL},
    {"a definite leak", HEAD LEAK_SUMMARY("48") SUMMARY("1"), false, "48 bytes definitely lost"},
    {"an invalid read", HEAD ERROR_REPORT LEAK_SUMMARY("0") SUMMARY("1"), false,
     "first: Invalid read of size 4"},
    {"killed, no summary, clean", HEAD, true, NULL},
    {"killed, no summary, an error", HEAD UNINIT_REPORT, false,
     "1 error reports (killed); first: Conditional jump or move depends on uninitialised"},
    {"killed, two errors", HEAD ERROR_REPORT UNINIT_REPORT, false, "2 error reports (killed)"},
    /* the program's own output never counts: only valgrind's "==pid== " lines */
    {"a program line that looks like a report", HEAD "Invalid read of size 4\n" SUMMARY("0"), true,
     NULL},
};

Test(e2e_memcheck, reads_logs_as_valgrind_writes_them)
{
	char path[] = "/tmp/credsync-vglog.XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *fp = fopen(path, "w");
		cr_assert(fp != NULL);
		fputs(cases[i].log, fp);
		fclose(fp);
		char why[512] = "";
		bool clean = e2e_valgrind_log_clean(path, why, sizeof(why));
		cr_expect_eq(clean, cases[i].clean, "%s: %s", cases[i].name, why);
		if (!cases[i].clean)
			cr_expect(strstr(why, cases[i].why) != NULL, "%s: \"%s\" not in \"%s\"",
			          cases[i].name, cases[i].why, why);
	}
	unlink(path);
	char why[512] = "";
	cr_expect(!e2e_valgrind_log_clean(path, why, sizeof(why)), "a missing log is not clean");
}
