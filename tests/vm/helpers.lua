function normalize_phone(p, cc)
  return p
end
