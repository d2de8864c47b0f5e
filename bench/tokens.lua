-- wrk script: each request carries the next of the tokens in the file
-- given after "--" (one per line), each thread starting at its own offset,
-- so no two consecutive requests of a connection repeat a token.
local tokens = {}
local i = 0

function init(args)
	for line in io.lines(args[1]) do
		if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
	end
	if #tokens == 0 then error("no tokens in " .. args[1]) end
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
	i = math.random(#tokens) - 1
end

function request()
	i = i % #tokens + 1
	return wrk.format(nil, nil, { ["Authorization"] = tokens[i] })
end
