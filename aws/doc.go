// Package aws is wavedr's adapter to AWS Elastic Disaster Recovery, EC2 and
// STS on aws-sdk-go-v2. It implements wavedr.Recovery, against real AWS or
// the built-in simulator, and is the only package of wavedr that imports
// the SDK.
//
// Each wavedr.Target (account, optional role and external ID, region) gets
// its own cached SDK clients, credentials and client-side rate limiter.
// Every call batches IDs at the API limits and paginates to the end, SDK
// errors are mapped once to wavedr error codes (errors.go), and retries use
// the SDK's standard retryer extended to honour Retry-After (retry.go).
package aws
