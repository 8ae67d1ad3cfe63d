% rebase('base.tpl', title=_('IVR flow') + ' ' + str(flow.get('id')), back_path='/admin/flows')
% include('admin_nav.tpl')
% edit = ctx.can('site.edit')
% dis = '' if edit else 'disabled'
<h1>{{_('IVR flow')}} {{flow.get('id')}}</h1>
% include('admin_applied.tpl', applied=applied)
% if notice:
<p class="notice" id="flow-notice">{{_(notice)}}</p>
% end
% nerr = sum(1 for c in cards if c.has_errors) + len(flow_errors)
% if nerr:
<p class="error" id="flow-invalid" role="alert">{{_('This flow has errors; it cannot be activated until they are fixed. They are marked on the nodes.')}}</p>
% elif checked:
<p class="ok" id="flow-valid">{{_('No errors: the flow can be saved and activated.')}}</p>
% end
% for e in flow_errors:
<p class="error flow-error">{{e.where()}}: {{e.message}}</p>
% end
% for w in flow_warnings:
<p class="warn flow-warning">{{w.where()}}: {{w.message}}</p>
% end
% if dids:
<p class="hint">{{_('Callers reach this flow on')}}: {{', '.join(dids)}}</p>
% elif not is_new:
<p class="hint">{{_('No DID points at this flow yet: set a DID target to')}} flow:{{flow.get('id')}}</p>
% end
<svg class="flow-graph" id="flow-graph" width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="{{_('Flow graph')}}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>
% for e in edges:
<line x1="{{e.x1}}" y1="{{e.y1}}" x2="{{e.x2}}" y2="{{e.y2}}" class="edge{{' missing' if e.missing else ''}}" marker-end="url(#arrow)"/>
<text x="{{e.lx}}" y="{{e.ly}}" class="edge-label{{' missing' if e.missing else ''}}">{{e.label}}</text>
% end
% for n in nodes:
<a href="#node-{{n.id}}"><g class="gnode {{n.state}}" data-node="{{n.id}}">
<rect x="{{n.x}}" y="{{n.y}}" width="{{box_w}}" height="{{box_h}}" rx="6"/>
<text x="{{n.x + 8}}" y="{{n.y + 16}}" class="gid">{{n.id}}</text>
<text x="{{n.x + 8}}" y="{{n.y + 32}}" class="gkind">{{_(n.kind)}}</text>
</g></a>
% end
</svg>
<form method="post" action="/admin/flows/{{flow.get('id')}}" id="flow-form">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% if edit:
<button name="op" value="check" class="default-submit" tabindex="-1" aria-hidden="true">{{_('Check')}}</button>
% end
<div class="flow-head">
<label>{{_('Name')}} <input name="flow_name" id="flow-name" value="{{flow.get('name', '')}}" {{dis}}></label>
<label>{{_('Entry node')}} <select name="entry" id="flow-entry" {{dis}}>
% for c in cards:
<option value="{{c.id}}" {{'selected' if c.id == flow.get('entry') else ''}}>{{c.id}}</option>
% end
% if flow.get('entry') not in [c.id for c in cards]:
<option value="{{flow.get('entry', '')}}" selected>{{flow.get('entry', '')}}</option>
% end
</select></label>
</div>
<datalist id="node-ids">
% for c in cards:
<option value="{{c.id}}">
% end
</datalist>
<div class="nodes">
% for c in cards:
<section class="node{{' has-error' if c.has_errors else ''}}{{' has-warning' if c.has_warnings else ''}}" id="node-{{c.id}}" data-node="{{c.id}}">
<input type="hidden" name="node_ids" value="{{c.id}}">
<input type="hidden" name="n.{{c.id}}.kind" value="{{c.kind}}">
<h3>{{c.id}} <small class="kind">{{_(c.kind)}}</small></h3>
% for e in c.errors:
<p class="error node-error" role="alert">{{e}}</p>
% end
% for w in c.warnings:
<p class="warn node-warning">{{w}}</p>
% end
% for f in c.fields:
% name = 'n.' + c.id + '.' + f.name
% fid = 'n-' + c.id + '-' + f.name
% lab = _(node_labels.get(f.name, f.name)) + ' '
<div class="field{{' has-error' if f.errors else ''}}" data-field="{{f.name}}">
% if f.widget == 'checkbox':
<label><input type="checkbox" name="{{name}}" id="{{fid}}" value="1" {{'checked' if f.value else ''}} {{dis}}> {{lab}}<code>{{f.name}}</code></label>
% elif f.widget == 'select':
<label>{{lab}}<code>{{f.name}}</code> <select name="{{name}}" id="{{fid}}" {{dis}}>
% for ch in f.choices:
<option value="{{ch}}" {{'selected' if f.value == ch else ''}}>{{ch}}</option>
% end
</select></label>
% elif f.widget == 'rows':
<fieldset><legend>{{lab}}<code>{{f.name}}</code></legend>
<table class="rows"><thead><tr><th>{{_('Key')}}</th><th>{{_('Value')}}</th></tr></thead><tbody>
% for i, row in enumerate(f.value):
<tr><td><input name="{{name}}.{{i}}.key" id="{{fid}}-{{i}}-key" value="{{row['key']}}" size="4" {{dis}}></td>
<td><input name="{{name}}.{{i}}.value" id="{{fid}}-{{i}}-value" value="{{row['value']}}" {{'list=node-ids' if f.name == 'branches' else ''}} {{dis}}></td></tr>
% end
</tbody></table></fieldset>
% elif f.widget == 'json':
<label>{{lab}}<code>{{f.name}}</code> (JSON) <textarea name="{{name}}" id="{{fid}}" rows="3" {{dis}}>{{f.value}}</textarea></label>
% else:
<label>{{lab}}<code>{{f.name}}</code>{{' *' if f.required else ''}} <input name="{{name}}" id="{{fid}}" value="{{f.value}}" {{'list=node-ids' if f.widget == 'node' else ''}} {{dis}}></label>
% end
% for e in f.errors:
<p class="error field-error" role="alert">{{e}}</p>
% end
% for w in f.warnings:
<p class="warn field-warning">{{w}}</p>
% end
</div>
% end
% if edit:
<button name="op" value="delete:{{c.id}}" class="danger delete-node">{{_('Delete node')}}</button>
% end
</section>
% end
</div>
% if edit:
<fieldset class="add-node"><legend>{{_('Add node')}}</legend>
<label>{{_('Node ID')}} <input name="new_id" id="new-node-id"></label>
<label>{{_('Kind')}} <select name="new_kind" id="new-node-kind">
% for k in kinds:
<option value="{{k}}">{{_(k)}} ({{k}})</option>
% end
</select></label>
<button name="op" value="add" id="add-node">{{_('Add node')}}</button>
</fieldset>
<p class="actions">
<button name="op" value="check" id="check-flow">{{_('Check')}}</button>
<button name="op" value="save" id="save-flow">{{_('Save and activate')}}</button>
</p>
% end
</form>
% if versions:
<h2>{{_('Versions')}}</h2>
<table id="versions"><thead><tr><th>{{_('Version')}}</th><th>{{_('Saved')}}</th><th>{{_('Active')}}</th><th></th></tr></thead><tbody>
% for v, active, created in versions:
<tr data-version="{{v}}"><td>{{v}}</td><td>{{local(created)}}</td><td>{{_('yes') if active else ''}}</td>
<td>
% if edit and not active:
<form method="post" action="/admin/flows/{{flow.get('id')}}/versions/{{v}}/activate" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button>{{_('Activate')}}</button></form>
% end
</td></tr>
% end
</tbody></table>
% end
% if not is_new:
<p><a href="/admin/flows/{{flow.get('id')}}/export.json" id="flow-export">{{_('Download JSON')}}</a></p>
% end
% if edit:
<details id="flow-json-edit"><summary>{{_('Edit as JSON')}}</summary>
<form method="post" action="/admin/flows/{{flow.get('id')}}/json" class="card wide">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<textarea name="flow_json" rows="20" id="flow-json">{{flow_json}}</textarea>
<button type="submit">{{_('Save and activate')}}</button>
</form>
% if not is_new:
<form method="post" action="/admin/flows/{{flow.get('id')}}/delete" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button class="danger" data-confirm="{{_('Delete this flow?')}}">{{_('Delete flow')}}</button></form>
% end
</details>
% end
