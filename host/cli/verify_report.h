/* verify_report.h (cli) — verify's report as text, for detrain verify and registry reproduce. */
#ifndef DT_CLI_VERIFY_REPORT_H
#define DT_CLI_VERIFY_REPORT_H

#include "run/verify.h"

/* Prints on stdout what dt_verify found for run_dir (as the user named it): a re-run that
 * failed, the verdict with what was compared or the first divergence with its likely cause,
 * and the folder kept; then flushes stdout, so that an error said after it follows it. */
void dt_cli_print_verify_report(const char *run_dir, const dt_verify_report *report);

#endif
