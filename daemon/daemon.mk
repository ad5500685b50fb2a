# daemon/: kilnd, kiln's daemon (docs/daemon.md), linked with libkiln.a,
# libmicrohttpd, jansson, SQLite and libcurl (lib/client.c's default
# paths).  DNET's host networking (daemon/network.c, daemon/proxy.c and
# their libraries) comes from daemon/net.mk when it is there; every other
# daemon/*.c is kilnd's.  The shim (`kilnd shim`) is the same binary.

-include daemon/net.mk

KILND_PKGS := libmicrohttpd jansson sqlite3 libcurl
KILND_CFLAGS := $(shell pkg-config --cflags $(KILND_PKGS))
KILND_LIBS := $(shell pkg-config --libs $(KILND_PKGS)) -lpthread
KILND_SRCS := $(filter-out daemon/network.c daemon/proxy.c,\
	$(wildcard daemon/*.c))
KILND_OBJS := $(patsubst %.c,$(B)/host/%.o,$(KILND_SRCS))
KILND := $(B)/kilnd

ALL_TARGETS += $(KILND)

$(KILND_OBJS): HOST_CFLAGS += -Idaemon $(KILND_CFLAGS)

$(KILND): $(KILND_OBJS) $(DNET_OBJS) $(B)/libkiln.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(KILND_OBJS) $(DNET_OBJS) \
		$(B)/libkiln.a $(LIBKILN_LIBS) $(DNET_LIBS) $(KILND_LIBS)

-include $(KILND_OBJS:.o=.d)
