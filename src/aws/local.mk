# aws layer: SigV4, credentials, HTTP (curl easy + curl multi on libevent),
# standard-mode retries, and the SQS / EventBridge / DynamoDB seam
# implementations. Unit tests need no network; integration tests start real
# emulators (moto, dynalite, local-aws-sqs) on loopback.
noinst_LIBRARIES += src/aws/libaws.a
AWS_LIB = src/aws/libaws.a
src_aws_libaws_a_SOURCES = \
	src/aws/awsutil.c \
	src/aws/sigv4.c \
	src/aws/http_internal.h \
	src/aws/http.c \
	src/aws/http_easy.c \
	src/aws/http_multi.c \
	src/aws/cred_internal.h \
	src/aws/credentials.c \
	src/aws/cred_remote.c \
	src/aws/retry.c \
	src/aws/client.c \
	src/aws/reqbuf.c \
	src/aws/sqs.c \
	src/aws/sqs_receive.c \
	src/aws/sqs_dlq.c \
	src/aws/eventbridge.c \
	src/aws/dynamodb.c \
	src/aws/dynamodb_runs.c

# Test support: the fixture server helpers.
noinst_LIBRARIES += tests/unit/aws/libawstest.a
tests_unit_aws_libawstest_a_SOURCES = \
	tests/unit/aws/fixture.c \
	tests/unit/aws/fixture.h
AWS_TEST_LIBS = $(AWS_LIB) tests/unit/aws/libawstest.a $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)

AWS_TESTS = \
	tests/unit/aws/test_sigv4 \
	tests/unit/aws/test_http \
	tests/unit/aws/test_credentials \
	tests/unit/aws/test_retry \
	tests/unit/aws/test_client \
	tests/unit/aws/test_eventbridge \
	tests/unit/aws/test_sqs \
	tests/unit/aws/test_dynamodb \
	tests/unit/aws/test_reqbuf \
	tests/unit/aws/test_sqs_receive

tests_unit_aws_test_sigv4_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_http_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_credentials_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_retry_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_client_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_eventbridge_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_sqs_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_dynamodb_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_reqbuf_LDADD = $(AWS_TEST_LIBS)
tests_unit_aws_test_sqs_receive_LDADD = $(AWS_TEST_LIBS)

EXTRA_DIST += tests/data/aws

check_PROGRAMS += $(AWS_TESTS)
TESTS += $(AWS_TESTS)

# Integration: shell scripts start the emulators and run itest_aws against them.
check_PROGRAMS += tests/integration/aws/itest_aws
tests_integration_aws_itest_aws_SOURCES = \
	tests/integration/aws/itest.h \
	tests/integration/aws/itest_main.c \
	tests/integration/aws/itest_sqs.c \
	tests/integration/aws/itest_eventbridge.c \
	tests/integration/aws/itest_dynamodb.c \
	tests/integration/aws/itest_dynamodb_runs.c
tests_integration_aws_itest_aws_CPPFLAGS = $(AM_CPPFLAGS) -DITEST_HAVE_EVENTBRIDGE -DITEST_HAVE_DYNAMODB
tests_integration_aws_itest_aws_LDADD = $(STAGES_LIB) $(AWS_TEST_LIBS)
AWS_ITESTS = \
	tests/integration/aws/moto.sh \
	tests/integration/aws/dynalite.sh \
	tests/integration/aws/local-sqs.sh
TESTS += $(AWS_ITESTS)
EXTRA_DIST += $(AWS_ITESTS) tests/integration/aws/lib.sh tests/emulators/package.json \
	tests/emulators/package-lock.json tests/emulators/start-sqs.mjs

# Benchmark (not a test): built by `make bench/bench_aws`, prints a table.
EXTRA_PROGRAMS += bench/bench_aws
bench_bench_aws_SOURCES = bench/bench_aws.c
bench_bench_aws_LDADD = $(AWS_LIB) $(CORE_LIB) $(DEPS_LIBS)
CLEANFILES += bench/bench_aws

# Whole-daemon test on backend = aws against moto (src/runtime/backends_aws.c).
AWS_E2E_TESTS = tests/integration/aws/daemon-moto.sh tests/integration/aws/daemon-batch.sh
TESTS += $(AWS_E2E_TESTS)
EXTRA_DIST += $(AWS_E2E_TESTS)
