# The two commands of the README, and a few conveniences. Scripts live in local/ so they can be read on their own.
.PHONY: run test bench admin fmt lint

run:  ## the whole platform locally: emulator, resources, every function, the demo tenant
	local/run.sh

test: ## every test: Rust (unit, handler, end-to-end against its own local stack), LocalStack bootstrap, CDK
	local/test.sh

bench: ## benchmarks of docs/BENCHMARKS.md (not part of `make test`)
	bench/run.sh

admin: ## operator command against the local stack, e.g. make admin ARGS="tenant create acme"
	AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:4566} cargo run -q -p hubble-admin -- --prefix $${HUBBLE_RESOURCE_PREFIX:-hubble} $(ARGS)

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
