# Static binaries for FROM scratch images (no base image can be pulled here),
# then the images that docker-compose.yml runs.
GO_BUILD := CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w"

.PHONY: binaries images up down test
binaries:
	$(GO_BUILD) -o bin/traditional ./apis/traditional
	$(GO_BUILD) -o bin/ml ./apis/ml
	$(GO_BUILD) -o bin/hub ./fixtures/hub

images: binaries
	docker build -q -f apis/traditional/Dockerfile -t mlready/traditional-api:dev .
	docker build -q -f apis/ml/Dockerfile -t mlready/ml-api:dev .
	docker build -q -f fixtures/hub/Dockerfile -t mlready/hub:dev .

up: images
	docker-compose up -d

down:
	docker-compose down -v

test:
	go test ./...
