% rebase('base.tpl', title=_(ui.title), back_path='/admin/' + section)
% include('admin_nav.tpl')
<h1>{{_(ui.title)}} ({{len(rows)}})</h1>
% if ui.intro:
<p class="hint">{{_(ui.intro)}}</p>
% end
% include('admin_applied.tpl', applied=applied)
% include('admin_refused.tpl', refused=refused)
% if ctx.can('site.edit'):
<p><a class="button" href="/admin/{{section}}/new" id="add">{{_('Add')}}: {{_(ui.item)}}</a></p>
% end
<table id="rows">
<thead><tr>
% for c in ui.columns:
<th>{{_(label_of(c))}}</th>
% end
<th></th></tr></thead>
<tbody>
% for r in rows:
% key = str(r[key_field])
<tr data-key="{{key}}">
% for c in ui.columns:
<td>{{summary(r.get(c))}}</td>
% end
<td>
% if ctx.can('site.edit'):
<a href="/admin/{{section}}/{{quote(key, safe='')}}/edit" class="edit">{{_('Edit')}}</a>
<form method="post" action="/admin/{{section}}/{{quote(key, safe='')}}/delete" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button class="danger" data-confirm="{{_('Delete this entry?')}}">{{_('Delete')}}</button>
</form>
% end
</td>
</tr>
% end
</tbody>
</table>
% if section in ('blacklist', 'autolock'):
<h2>{{_('Locked numbers')}} ({{len(locks)}})</h2>
<p class="hint">{{_('Numbers locked by an auto-lock rule. Unlock to let them through again at once.')}}</p>
<table id="locks">
<thead><tr><th>{{_('Number')}}</th><th>{{_('Rule')}}</th><th>{{_('Since')}}</th><th>{{_('Until')}}</th><th></th></tr></thead>
<tbody>
% for lk in locks:
<tr data-number="{{lk['number']}}"><td>{{lk['number']}}</td><td>{{lk['rule']}}</td><td>{{local(lk['since'])}}</td><td>{{local(lk['until'])}}</td>
<td>
% if ctx.can('site.edit'):
<form method="post" action="/admin/locks/{{quote(lk['number'], safe='')}}/unlock" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button class="unlock">{{_('Unlock')}}</button>
</form>
% end
</td></tr>
% end
</tbody>
</table>
% end
