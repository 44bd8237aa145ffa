// Compiles the public header as C (the Swift implementation imports it as the CRingWorker module,
// so the header is the one description of every type both sides use). Nothing else lives here.
#include "ringtransport/worker.h"
