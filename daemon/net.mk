# kilnd's host networking (DNET): daemon/network.c (networks, leases,
# taps) and daemon/proxy.c (published ports), with lib/hostnet.c
# (netlink; in libkiln.a like all of lib/) and lib/ipam.c.  This file
# builds the objects and their tests; daemon/daemon.mk links kilnd with
#   $(DNET_OBJS) $(LIBKILN) $(DNET_LIBS)
# Guarded, so it may be included twice.
ifndef DNET_MK_INCLUDED
DNET_MK_INCLUDED := 1

DNET_NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0)
DNET_OBJS := $(B)/host/daemon/network.o $(B)/host/daemon/proxy.o
DNET_LIBS := $(shell pkg-config --libs libnl-route-3.0 sqlite3 jansson) \
	-lpthread

$(B)/host/lib/hostnet.o: HOST_CFLAGS += $(DNET_NL_CFLAGS)
$(DNET_OBJS): HOST_CFLAGS += -Idaemon $(DNET_NL_CFLAGS)
ALL_TARGETS += $(DNET_OBJS)

-include $(DNET_OBJS:.o=.d)
endif
