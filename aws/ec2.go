package aws

import (
	"context"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"wavedr"
)

// DescribeInstances returns the EC2 instances that exist among ids. It asks
// with an instance-id filter of up to wavedr.MaxInstanceIDsPerCall values,
// never with InstanceIds: a list fails the whole call on one unknown ID
// (normal right after a launch), a filter returns what exists.
func (c *Client) DescribeInstances(ctx context.Context, t wavedr.Target, ids []string) ([]*wavedr.Instance, error) {
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	instances, err := c.describeInstances(ctx, tc, ids)
	return instances, mapError("ec2 DescribeInstances", tc.target, err)
}

func (c *Client) describeInstances(ctx context.Context, tc *targetClients, ids []string) ([]*wavedr.Instance, error) {
	var out []*wavedr.Instance
	for _, b := range batches(unique(ids), wavedr.MaxInstanceIDsPerCall) {
		p := ec2.NewDescribeInstancesPaginator(tc.ec2, &ec2.DescribeInstancesInput{
			Filters:    []ec2types.Filter{{Name: sdkaws.String("instance-id"), Values: b}},
			MaxResults: c.pageSize(),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, r := range page.Reservations {
				for i := range r.Instances {
					out = append(out, toInstance(&r.Instances[i]))
				}
			}
		}
	}
	return out, nil
}
