// SPDX-License-Identifier: BSD-3-Clause
#include "advert_wire.hpp"
