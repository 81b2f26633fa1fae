#pragma once

#include <string>
#include <string_view>

namespace bbsync::mapping {

// Derives the RFC 4122 version-5 UUID (SHA-1, URL namespace) of the name
// "<resource_type>|<system>|<value>" and returns it as "urn:uuid:<lower-case uuid>". The same
// triple always gives the same text, on every machine. Throws only std::bad_alloc.
std::string make_full_url(std::string_view resource_type, std::string_view system, std::string_view value);

// Builds the conditional-create query "identifier=<system>|<value>" for a bundle entry. FHIR
// search escapes (backslash before \ | , $) are applied to system and value, then every byte
// outside A-Z a-z 0-9 - . _ ~ : / is percent-encoded, so a '#' in a value cannot end the query.
// Throws only std::bad_alloc.
std::string make_if_none_exist(std::string_view system, std::string_view value);

}  // namespace bbsync::mapping
