#include "connectors/connector.h"
const Connector connector_dinero = {.system = "dinero", .title = "dinero"};
