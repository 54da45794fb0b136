/*
 * main: argv -> config -> runtime; nothing else.
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"

int
main(int argc, char **argv)
{
	struct cli_args args;

	if (cli_parse(argc, argv, &args) < 0) {
		cli_usage(stderr);
		return EXIT_CONFIG;
	}
	switch (args.command) {
	case CLI_VERSION:
		printf("alchemiserd %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	case CLI_HELP:
		cli_usage(stdout);
		return EXIT_OK;
	default:
		fprintf(stderr, "alchemiserd: this build does not run that command yet\n");
		return EXIT_FAILED;
	}
}
