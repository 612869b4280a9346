#include "connectors/connector.h"
const Connector connector_economic = {.system = "economic", .title = "economic"};
