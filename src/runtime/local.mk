# runtime layer: the loop, the workers, the pipeline, lifecycle and systemd notification.
noinst_LIBRARIES += src/runtime/libruntime.a
RUNTIME_LIB = src/runtime/libruntime.a
src_runtime_libruntime_a_SOURCES = \
	src/runtime/runtime_internal.h \
	src/runtime/backends.c \
	src/runtime/backends_internal.h \
	src/runtime/backends_aws.c \
	src/runtime/backends_local.c \
	src/runtime/backends_trading.c \
	src/runtime/dashboard.c \
	src/runtime/deadletters.c \
	src/runtime/httpd.c \
	src/runtime/metrics.c \
	src/runtime/pages.c \
	src/runtime/notify.c \
	src/runtime/pipeline.c \
	src/runtime/workers.c \
	src/runtime/runtime.c \
	src/runtime/runtime_main.c
