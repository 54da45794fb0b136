# stages layer: one file per workflow step, behind the interface of stages/stage.h.
noinst_LIBRARIES += src/stages/libstages.a
STAGES_LIB = src/stages/libstages.a
src_stages_libstages_a_SOURCES = \
	src/stages/stages_internal.h \
	src/stages/stage.c \
	src/stages/stage_start.c \
	src/stages/stage_monitor.c \
	src/stages/stage_errors.c \
	src/stages/storm.c \
	src/stages/stage_deadletter.c \
	src/stages/stage_mail.c \
	src/stages/stage_signals.c \
	src/stages/stage_portfolio.c \
	src/stages/stage_execution.c
