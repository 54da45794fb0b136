# mail layer: sources, convenience library and unit tests (see Makefile.am).
noinst_LIBRARIES += src/mail/libmail.a
MAIL_LIB = src/mail/libmail.a
src_mail_libmail_a_SOURCES = \
	src/mail/textbuf.c \
	src/mail/mime.c \
	src/mail/smtp.c \
	src/mail/maildir.c \
	src/mail/report.c \
	src/mail/report_trading.c \
	src/mail/report_error.c \
	src/mail/report_pnl.c \
	include/alchemiser/seams/mailer.h \
	include/alchemiser/mail/textbuf.h \
	include/alchemiser/mail/mime.h \
	include/alchemiser/mail/smtp.h \
	include/alchemiser/mail/maildir.h \
	include/alchemiser/mail/report.h \
	include/alchemiser/mail/report_trading.h \
	include/alchemiser/mail/report_error.h \
	include/alchemiser/mail/report_pnl.h

MAIL_TESTS = \
	tests/unit/mail/test_mime \
	tests/unit/mail/test_smtp \
	tests/unit/mail/test_maildir \
	tests/unit/mail/test_report
check_PROGRAMS += $(MAIL_TESTS)
TESTS += $(MAIL_TESTS)
tests_unit_mail_test_mime_SOURCES = tests/unit/mail/test_mime.c
tests_unit_mail_test_mime_LDADD = $(MAIL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_mail_test_smtp_SOURCES = tests/unit/mail/test_smtp.c
tests_unit_mail_test_smtp_LDADD = $(MAIL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_mail_test_maildir_SOURCES = tests/unit/mail/test_maildir.c
tests_unit_mail_test_maildir_LDADD = $(MAIL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_mail_test_report_SOURCES = tests/unit/mail/test_report.c
tests_unit_mail_test_report_LDADD = $(MAIL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)

# Integration: real aiosmtpd sinks on loopback (tests/integration/mail/smtp.sh
# starts them, runs smtp_live, checks what arrived with verify.py).
check_PROGRAMS += tests/integration/mail/smtp_live
tests_integration_mail_smtp_live_SOURCES = tests/integration/mail/smtp_live.c
tests_integration_mail_smtp_live_LDADD = $(MAIL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
TESTS += tests/integration/mail/smtp.sh
EXTRA_DIST += tests/integration/mail/smtp.sh tests/integration/mail/smtp_sink.py \
	tests/integration/mail/verify.py tests/data/mail
